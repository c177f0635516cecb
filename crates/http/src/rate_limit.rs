//! Per-credential request rate limiting for the events API: one token bucket per API key or user id, so a single
//! noisy client is answered 429 with a `Retry-After` instead of slowing everyone else down.
//!
//! On PostgreSQL the buckets live in the database ([`Limiter::Shared`]), so the budget is one however many nodes
//! serve; on SQLite (one node by construction) they live in the process ([`RateLimiter`]), which costs no write.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::Quota;

/// How fast one credential may call: a bucket of `burst` tokens, refilled at `per_second` tokens a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Tokens put back per second (the sustained request rate).
    pub per_second: u32,
    /// Size of the bucket: how many requests an idle credential may make at once.
    pub burst: u32,
}

/// Where the buckets are kept.
#[derive(Clone)]
pub enum Limiter {
    /// In this process.
    Local(RateLimiter),
    /// In the database all nodes share, one statement per check.
    Shared(tessera_storage::RateQuota),
}

impl Limiter {
    /// Shared buckets when the application's database can have several nodes, local ones otherwise.
    pub fn for_app(app: &tessera_app::Tessera, limit: RateLimit) -> Self {
        if app.is_multi_node() {
            Self::Shared(tessera_storage::RateQuota::per_second(limit.per_second, limit.burst))
        } else {
            Self::Local(RateLimiter::new(limit))
        }
    }

    /// `Ok(Ok(()))` if the request may proceed, `Ok(Err(retry_after))` if not; a refused request takes no token.
    pub async fn check(
        &self,
        app: &tessera_app::Tessera,
        key: &str,
    ) -> Result<Result<(), Duration>, tessera_app::AppError> {
        match self {
            Self::Local(limiter) => Ok(limiter.check(key)),
            Self::Shared(quota) => Ok(match app.take_rate_token(key, *quota).await? {
                tessera_storage::RateDecision::Allowed => Ok(()),
                tessera_storage::RateDecision::Wait(wait) => Err(wait),
            }),
        }
    }
}

/// Fewest checks between two sweeps of idle keys (see [`RateLimiter::sweep_if_due`]).
const SWEEP_MIN_CHECKS: u64 = 1024;

type Buckets<C> =
    governor::RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Keyed token buckets, one per credential (API key id or user id).
///
/// Cheap to clone: clones share the same buckets. `C` is the time source; everything but tests uses the
/// default (monotonic) clock.
pub struct RateLimiter<C: Clock = DefaultClock> {
    inner: Arc<Inner<C>>,
}

struct Inner<C: Clock> {
    limit: RateLimit,
    buckets: Buckets<C>,
    /// Calls to `check` so far.
    checks: AtomicU64,
    /// Value of `checks` at which the next sweep of idle keys is due; `u64::MAX` while one is running.
    next_sweep: AtomicU64,
}

impl RateLimiter {
    /// Buckets on the monotonic clock.
    ///
    /// Zero in `per_second` or `burst` is clamped to 1 (the configuration already refuses it): a quota of
    /// zero would mean "never", which is not what anybody configuring a rate limit means.
    pub fn new(limit: RateLimit) -> Self {
        Self::with_clock(limit, DefaultClock::default())
    }
}

impl<C: Clock> RateLimiter<C> {
    /// Like [`RateLimiter::new`], on the given clock (tests use `governor::clock::FakeRelativeClock`).
    pub fn with_clock(limit: RateLimit, clock: C) -> Self {
        let per_second = NonZeroU32::new(limit.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        RateLimiter {
            inner: Arc::new(Inner {
                limit: RateLimit { per_second: per_second.get(), burst: burst.get() },
                buckets: governor::RateLimiter::dashmap_with_clock(quota, clock),
                checks: AtomicU64::new(0),
                next_sweep: AtomicU64::new(SWEEP_MIN_CHECKS),
            }),
        }
    }

    /// The limit in force (after clamping zeros to 1).
    pub fn limit(&self) -> RateLimit {
        self.inner.limit
    }

    /// Ok if the request may proceed; Err(retry_after) with how long until the next token.
    ///
    /// A refused request takes no token.
    pub fn check(&self, key: &str) -> Result<(), Duration> {
        let buckets = &self.inner.buckets;
        let outcome = buckets.check_key(&key.to_owned());
        self.sweep_if_due();
        outcome.map_err(|not_until| not_until.wait_time_from(buckets.clock().now()))
    }

    /// Forgets the buckets of keys that have been idle long enough to be full again.
    ///
    /// governor keeps one entry per key ever seen until `retain_recent` is called, so without this the map
    /// would grow with every credential that ever made a request. Dropping a full bucket loses nothing: a
    /// key seen again starts with a full bucket, exactly what it would have had. A key's bucket is full
    /// again at most `burst / per_second` seconds after its last request, so after a sweep the map holds
    /// only the keys active in that window.
    ///
    /// The sweep walks the whole map, so it runs from `check` once every `max(1024, live keys after the
    /// previous sweep)` checks: the cost per check stays constant however many keys there are, and the map
    /// holds at most about twice the recently active keys plus 1024. No timer or background task is needed,
    /// and the map can only grow through checks, which is what triggers the sweep. (The map's allocated
    /// capacity stays at its peak; that is bounded by the same argument.)
    fn sweep_if_due(&self) {
        let inner = &*self.inner;
        let n = inner.checks.fetch_add(1, Ordering::Relaxed) + 1;
        let due = inner.next_sweep.load(Ordering::Relaxed);
        // One caller wins the sweep; `u64::MAX` keeps concurrent callers out until it is done.
        if n < due || inner.next_sweep.compare_exchange(due, u64::MAX, Ordering::Relaxed, Ordering::Relaxed).is_err() {
            return;
        }
        inner.buckets.retain_recent();
        let live = u64::try_from(inner.buckets.len()).unwrap_or(u64::MAX);
        inner.next_sweep.store(n.saturating_add(live.max(SWEEP_MIN_CHECKS)), Ordering::Relaxed);
    }
}

impl<C: Clock> Clone for RateLimiter<C> {
    fn clone(&self) -> Self {
        RateLimiter { inner: Arc::clone(&self.inner) }
    }
}

impl<C: Clock> fmt::Debug for RateLimiter<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limit", &self.inner.limit)
            .field("keys", &self.inner.buckets.len())
            .finish()
    }
}

/// The HTTP `Retry-After` value for a wait: whole seconds, rounded up, at least 1.
pub fn retry_after_secs(d: Duration) -> u64 {
    d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use governor::clock::FakeRelativeClock;

    use super::*;

    fn limiter(per_second: u32, burst: u32) -> (RateLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (RateLimiter::with_clock(RateLimit { per_second, burst }, clock.clone()), clock)
    }

    #[test]
    fn burst_is_allowed_then_refused_with_a_retry_after() {
        let (limiter, _clock) = limiter(2, 3);
        for i in 0..3 {
            assert_eq!(limiter.check("key-a"), Ok(()), "request {i} of the burst");
        }
        let wait = limiter.check("key-a").unwrap_err();
        assert!(wait > Duration::ZERO, "{wait:?}");
        // Two tokens a second: the next one is half a second away.
        assert_eq!(wait, Duration::from_millis(500));
        // A clone shares the buckets.
        assert!(limiter.clone().check("key-a").is_err());
    }

    #[test]
    fn keys_are_independent() {
        let (limiter, _clock) = limiter(1, 2);
        assert!(limiter.check("user:1").is_ok());
        assert!(limiter.check("user:1").is_ok());
        assert!(limiter.check("user:1").is_err());
        assert!(limiter.check("user:2").is_ok());
        assert!(limiter.check("user:2").is_ok());
        assert!(limiter.check("user:2").is_err());
        assert!(limiter.check("key:1").is_ok(), "a fresh key still has its whole burst");
    }

    #[test]
    fn tokens_come_back_with_time() {
        let (limiter, clock) = limiter(1, 3);
        for _ in 0..3 {
            limiter.check("k").unwrap();
        }
        let wait = limiter.check("k").unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));

        // Not quite there yet: the wait shrinks accordingly.
        clock.advance(Duration::from_millis(400));
        assert_eq!(limiter.check("k"), Err(Duration::from_millis(600)));

        // One token back, and only one.
        clock.advance(Duration::from_millis(600));
        assert_eq!(limiter.check("k"), Ok(()));
        assert!(limiter.check("k").is_err());

        // A long pause refills the bucket, but never beyond the burst.
        clock.advance(Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(limiter.check("k"), Ok(()));
        }
        assert!(limiter.check("k").is_err());
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let (limiter, clock) = limiter(10, 20);
        for i in 0..2000 {
            limiter.check(&format!("key-{i}")).unwrap();
        }
        // The sweep after 1024 checks found every key still active.
        assert_eq!(limiter.inner.buckets.len(), 2000);

        // Every bucket is full again after burst / per_second = 2 s.
        clock.advance(Duration::from_secs(3));
        for _ in 0..100 {
            let _ = limiter.check("busy");
        }
        assert_eq!(limiter.inner.buckets.len(), 1, "only the key in use is kept");

        // A forgotten key starts over with a full bucket.
        for _ in 0..20 {
            assert_eq!(limiter.check("key-7"), Ok(()));
        }
        assert!(limiter.check("key-7").is_err());
    }

    #[test]
    fn zero_limits_are_clamped_to_one() {
        let (limiter, clock) = limiter(0, 0);
        assert_eq!(limiter.limit(), RateLimit { per_second: 1, burst: 1 });
        assert!(limiter.check("k").is_ok());
        assert_eq!(limiter.check("k"), Err(Duration::from_secs(1)));
        clock.advance(Duration::from_secs(1));
        assert!(limiter.check("k").is_ok());
    }

    #[test]
    fn works_on_the_real_clock() {
        // One token a second: nothing comes back during the few microseconds this takes.
        let limiter = RateLimiter::new(RateLimit { per_second: 1, burst: 2 });
        assert!(limiter.check("k").is_ok());
        assert!(limiter.check("k").is_ok());
        let wait = limiter.check("k").unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1), "{wait:?}");
        assert_eq!(retry_after_secs(wait), 1);
        assert!(format!("{limiter:?}").contains("per_second: 1"));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_at_least_one() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_nanos(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(500)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(1) + Duration::from_nanos(1)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2500)), 3);
        assert_eq!(retry_after_secs(Duration::from_secs(7)), 7);
        assert_eq!(retry_after_secs(Duration::MAX), u64::MAX);
    }
}
