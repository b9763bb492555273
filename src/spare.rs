//! Per-thread spares: what the last value of a kind used on a thread leaves behind (a buffer,
//! a box), kept for the next one. A call that returns at once then allocates nothing, and the
//! memory it uses is what the thread touched last: storage kept per connection would be out
//! of cache in an event loop with thousands of connections.

use std::cell::Cell;
use std::thread::LocalKey;

/// A per-thread slot holding at most one spare.
pub(crate) type Slot<T> = LocalKey<Cell<Option<T>>>;

/// The spare kept in `slot`, if any (none once the thread's slots are torn down).
pub(crate) fn take<T: 'static>(slot: &'static Slot<T>) -> Option<T> {
    slot.try_with(Cell::take).ok().flatten()
}

/// Keeps `value` in `slot`, in place of the spare there; dropped when the slot is gone.
pub(crate) fn keep<T: 'static>(slot: &'static Slot<T>, value: T) {
    let _ = slot.try_with(|s| s.set(Some(value)));
}

/// `value` in the box kept in `slot`, or in a new box.
pub(crate) fn boxed<T: 'static>(slot: &'static Slot<Box<T>>, value: T) -> Box<T> {
    match take(slot) {
        Some(mut b) => {
            *b = value;
            b
        }
        None => Box::new(value),
    }
}
