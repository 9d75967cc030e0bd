//! One driver instance shared between contexts through a critical section
//! (std's critical-section implementation stands in for IRQ masking).

use std::thread;

use trusted_core::{Error, Shared};

struct Driver {
    jobs: u32,
}

static DRIVER: Shared<Driver> = Shared::new(Driver { jobs: 0 });

#[test]
fn two_contexts_use_one_instance_without_losing_updates() {
    let workers: Vec<_> = (0..4)
        .map(|_| thread::spawn(|| (0..1000).for_each(|_| DRIVER.with(|d| d.jobs += 1).unwrap())))
        .collect();
    workers.into_iter().for_each(|w| w.join().unwrap());
    assert_eq!(DRIVER.with(|d| d.jobs).unwrap(), 4000);
}

#[test]
fn nested_use_is_busy_not_a_second_mutable_borrow() {
    let shared = Shared::new(5u32);
    let inner = shared.with(|_| shared.with(|v| *v)).unwrap();
    assert_eq!(inner, Err(Error::Busy));
    assert_eq!(shared.into_inner(), 5);
}
