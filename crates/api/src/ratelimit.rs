//! Rate limits on public endpoints: per client IP and per phone number.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;

/// Public intake limits, from configuration.
#[derive(Clone, Copy, Debug)]
pub struct RateLimitConfig {
    pub callbacks_per_ip_per_minute: u32,
    pub callbacks_per_phone_per_hour: u32,
}
/// Login attempts per client IP per minute.
pub const LOGINS_PER_IP_PER_MINUTE: u32 = 30;
/// Keys tracked before old ones are purged.
const KEYS_MAX: usize = 100_000;

#[derive(Clone)]
pub(crate) struct RateLimits {
    logins_per_ip: Arc<DefaultKeyedRateLimiter<String>>,
    per_ip: Arc<DefaultKeyedRateLimiter<String>>,
    per_phone: Arc<DefaultKeyedRateLimiter<String>>,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl RateLimits {
    pub fn new(config: RateLimitConfig) -> RateLimits {
        let per_ip = Quota::per_minute(nz(config.callbacks_per_ip_per_minute));
        let per_phone = Quota::per_hour(nz(config.callbacks_per_phone_per_hour));
        RateLimits {
            logins_per_ip: Arc::new(RateLimiter::keyed(Quota::per_minute(nz(
                LOGINS_PER_IP_PER_MINUTE,
            )))),
            per_ip: Arc::new(RateLimiter::keyed(per_ip)),
            per_phone: Arc::new(RateLimiter::keyed(per_phone)),
        }
    }

    fn check(limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), ApiError> {
        if limiter.len() > KEYS_MAX {
            limiter.retain_recent();
        }
        limiter.check_key(&key.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited { retry_after_s: wait.as_secs().max(1) }
        })
    }

    /// Login attempts, to slow password guessing.
    pub fn check_login(&self, ip: &str) -> Result<(), ApiError> {
        Self::check(&self.logins_per_ip, ip)
    }

    pub fn check_ip(&self, ip: &str) -> Result<(), ApiError> {
        Self::check(&self.per_ip, ip)
    }

    pub fn check_phone(&self, phone: &str) -> Result<(), ApiError> {
        Self::check(&self.per_phone, phone)
    }
}
