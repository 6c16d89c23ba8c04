/* A second thread for the patch search, that the caller never waits on to start.
 *
 * lacgeo runs two independent search chains per call. With a fork-join team
 * (OpenMP), the caller must wait for the second thread to wake before it can
 * return, and on a virtual machine whose second vCPU has been idle for ~20 ms that
 * wake took 3-7 ms, ten times the search itself. Here the caller *offers* chain two
 * to one persistent worker; whoever takes it first runs it. If the worker has not
 * woken by the time the caller has finished chain one, the caller takes chain two
 * back and runs it itself, so a slow wake costs at most the time of one chain.
 * The chains do not depend on which thread runs them, so neither does the answer.
 *
 * The calls, all from the thread that runs the search:
 *   lac_worker_wake()    start the worker (once per process) and let it spin for
 *                        up to LAC_SPIN_WAKE seconds waiting for an offer; call it
 *                        as early as possible, so the wake overlaps preparation.
 *   lac_worker_offer(f, arg)  offer f(arg), starting the worker if need be; 0 if
 *                        there is no free worker (then run f yourself).
 *   lac_worker_reclaim() 1 if the offer was taken back (run it yourself), else
 *                        wait until the worker has finished it and return 0.
 * Only one offer is open at a time; a caller that finds the worker busy (another
 * Python thread's search) runs both chains itself. After a fork the child starts a
 * new worker. Without POSIX threads (Windows) nothing is offered.
 */
#ifndef LACGEO_WORKER_H
#define LACGEO_WORKER_H

typedef void (*lac_task)(void *);

#if defined(_WIN32)

static int lac_worker_wake(void) { return 0; }
static int lac_worker_offer(lac_task fn, void *arg) { (void)fn; (void)arg; return 0; }
static int lac_worker_reclaim(void) { return 1; }

#else

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

/* Spin (seconds) after a wake, before sleeping again: covers the preparation
 * between lac_worker_wake() and the offer. And after a task, for the next piece
 * of the same call. */
#define LAC_SPIN_WAKE 2e-3
#define LAC_SPIN_AFTER 2e-4

#if defined(__x86_64__) || defined(__i386__)
#define LAC_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define LAC_RELAX() __asm__ __volatile__("yield")
#else
#define LAC_RELAX() ((void)0)
#endif

enum { LAC_FREE, LAC_FILLING, LAC_OFFERED, LAC_RUNNING, LAC_DONE };

static atomic_int lac_slot = LAC_FREE;
static lac_task lac_fn;
static void *lac_arg;
static pthread_mutex_t lac_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lac_wake_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t lac_done_cv = PTHREAD_COND_INITIALIZER;
/* All guarded by lac_mu. */
static int lac_woken;
static int lac_started;
static int lac_cpus = -1;
static int lac_caller_cpu = -1;
static pthread_t lac_thread;

static double lac_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Take the open offer, run it and mark it done; 0 if none was open. */
static int lac_take(void) {
    int expected = LAC_OFFERED;
    if (!atomic_compare_exchange_strong(&lac_slot, &expected, LAC_RUNNING)) return 0;
    lac_fn(lac_arg);
    pthread_mutex_lock(&lac_mu);
    atomic_store(&lac_slot, LAC_DONE);
    pthread_cond_broadcast(&lac_done_cv);
    pthread_mutex_unlock(&lac_mu);
    return 1;
}

/* Spin for up to `seconds` waiting for an offer; 1 if one was taken. */
static int lac_spin_take(double seconds) {
    double until = lac_now() + seconds;
    do {
        for (int i = 0; i < 256; i++) {
            if (atomic_load(&lac_slot) == LAC_OFFERED) return lac_take();
            LAC_RELAX();
        }
    } while (lac_now() < until);
    return 0;
}

static void *lac_worker_main(void *unused) {
    (void)unused;
    double spin = LAC_SPIN_WAKE;
    for (;;) {
        if (lac_spin_take(spin)) {
            spin = LAC_SPIN_AFTER;
            continue;
        }
        pthread_mutex_lock(&lac_mu);
        while (!lac_woken && atomic_load(&lac_slot) != LAC_OFFERED)
            pthread_cond_wait(&lac_wake_cv, &lac_mu);
        spin = lac_woken ? LAC_SPIN_WAKE : LAC_SPIN_AFTER;
        lac_woken = 0;
        pthread_mutex_unlock(&lac_mu);
    }
    return NULL;
}

/* The child of a fork has no worker: start afresh. */
static void lac_after_fork(void) {
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    lac_mu = mu;
    lac_wake_cv = cv;
    lac_done_cv = cv;
    lac_woken = lac_started = 0;
    lac_caller_cpu = -1;
    atomic_store(&lac_slot, LAC_FREE);
}

static int lac_usable_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
#endif
    return n > 0 ? (int)n : 1;
}

/* Start the worker if there is none and a second CPU to run it, and keep it off
 * the caller's CPU (Linux): woken onto that CPU, it waited there until the caller
 * had run both chains itself. lac_mu held; 1 if there is a worker. */
static int lac_prepare_locked(void) {
    if (lac_cpus < 0) {
        lac_cpus = lac_usable_cpus();
        pthread_atfork(NULL, NULL, lac_after_fork);
    }
    if (!lac_started && lac_cpus > 1) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        lac_started = pthread_create(&lac_thread, &attr, lac_worker_main, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
#if defined(__linux__) && defined(CPU_COUNT)
    int cpu = sched_getcpu();
    cpu_set_t set;
    if (lac_started && cpu >= 0 && cpu != lac_caller_cpu && sched_getaffinity(0, sizeof(set), &set) == 0) {
        CPU_CLR(cpu, &set);
        if (CPU_COUNT(&set) > 0 && pthread_setaffinity_np(lac_thread, sizeof(set), &set) == 0) lac_caller_cpu = cpu;
    }
#endif
    return lac_started;
}

static int lac_worker_wake(void) {
    pthread_mutex_lock(&lac_mu);
    int started = lac_prepare_locked();
    lac_woken = 1;
    pthread_cond_signal(&lac_wake_cv);
    pthread_mutex_unlock(&lac_mu);
    return started;
}

static int lac_worker_offer(lac_task fn, void *arg) {
    int expected = LAC_FREE;
    if (!atomic_compare_exchange_strong(&lac_slot, &expected, LAC_FILLING)) return 0;
    lac_fn = fn;
    lac_arg = arg;
    pthread_mutex_lock(&lac_mu);
    int started = lac_prepare_locked();
    atomic_store(&lac_slot, started ? LAC_OFFERED : LAC_FREE);
    pthread_cond_signal(&lac_wake_cv);
    pthread_mutex_unlock(&lac_mu);
    return started;
}

static int lac_worker_reclaim(void) {
    int expected = LAC_OFFERED;
    if (atomic_compare_exchange_strong(&lac_slot, &expected, LAC_FREE)) return 1;
    /* The worker is running it, so the wait is for its work, not a wake: spin a while. */
    double until = lac_now() + LAC_SPIN_WAKE;
    while (atomic_load(&lac_slot) != LAC_DONE && lac_now() < until) LAC_RELAX();
    pthread_mutex_lock(&lac_mu);
    while (atomic_load(&lac_slot) != LAC_DONE) pthread_cond_wait(&lac_done_cv, &lac_mu);
    pthread_mutex_unlock(&lac_mu);
    atomic_store(&lac_slot, LAC_FREE);
    return 0;
}

#endif
#endif
