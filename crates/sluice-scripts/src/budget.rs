//! [`HostBuffers`]: the container's budget for host memory held on a script's behalf before it
//! becomes JavaScript values — query results streaming in from PostgreSQL or MySQL, HTTP
//! response bodies. Each module already caps one result (32 MiB for a query, 10 MiB for a
//! body); this caps all of a container's results in flight together, so twenty concurrent
//! queries cannot hold twenty times a result in Rust. The budget is the container's memory limit:
//! once the values are in the script's heap, the engine's limit counts them instead.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Clone, Debug)]
pub struct HostBuffers {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    used: AtomicUsize,
    limit: usize,
}

/// Bytes one operation holds; given back when dropped.
#[derive(Debug)]
pub struct Charge {
    inner: Arc<Inner>,
    held: usize,
}

impl HostBuffers {
    pub fn new(limit: usize) -> Self {
        HostBuffers {
            inner: Arc::new(Inner {
                used: AtomicUsize::new(0),
                limit,
            }),
        }
    }

    /// A new, empty charge for one operation.
    pub fn charge(&self) -> Charge {
        Charge {
            inner: self.inner.clone(),
            held: 0,
        }
    }

    /// Bytes held now by all of the container's operations.
    pub fn used(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> usize {
        self.inner.limit
    }
}

impl Charge {
    /// Holds `n` more bytes, or refuses (holding nothing more) when the container's operations
    /// together would exceed the limit. The error is the message a script sees.
    pub fn grow(&mut self, n: usize) -> Result<(), String> {
        let prev = self.inner.used.fetch_add(n, Ordering::Relaxed);
        if prev.saturating_add(n) > self.inner.limit {
            self.inner.used.fetch_sub(n, Ordering::Relaxed);
            return Err(format!(
                "the results this script has in flight are larger than {} MiB (the script memory limit); run fewer queries or requests at once, or select less",
                self.inner.limit >> 20
            ));
        }
        self.held += n;
        Ok(())
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.inner.used.fetch_sub(self.held, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_share_one_limit_and_give_back_on_drop() {
        let b = HostBuffers::new(100);
        let mut a = b.charge();
        let mut c = b.charge();
        a.grow(60).unwrap();
        assert!(c.grow(50).is_err());
        c.grow(40).unwrap();
        assert_eq!(b.used(), 100);
        drop(a);
        assert_eq!(b.used(), 40);
        c.grow(60).unwrap();
        drop(c);
        assert_eq!(b.used(), 0);
    }
}
