//! Grad mode: whether ops record themselves for backward. Thread-local, as in PyTorch, so an
//! evaluation on one thread does not switch off recording on another.

use std::cell::Cell;

thread_local! {
    static NO_GRAD_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Whether ops on this thread record a graph (false inside [`no_grad`]).
pub fn is_grad_enabled() -> bool {
    NO_GRAD_DEPTH.with(|d| d.get() == 0)
}

/// Runs `f` with recording off: its results need no gradient and hold no graph. For
/// inference, evaluation and optimizer steps. Nests; recording resumes when the outermost
/// scope ends, also by a panic.
pub fn no_grad<T>(f: impl FnOnce() -> T) -> T {
    let _guard = NoGradGuard::new();
    f()
}

/// Recording is off while a guard lives (the RAII form of [`no_grad`]).
#[must_use = "recording resumes as soon as the guard is dropped"]
pub struct NoGradGuard {
    // Not Send: the guard must be dropped on the thread whose counter it raised.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl NoGradGuard {
    /// Turns recording off on this thread until the guard is dropped.
    pub fn new() -> Self {
        NO_GRAD_DEPTH.with(|d| d.set(d.get() + 1));
        NoGradGuard { _not_send: std::marker::PhantomData }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        NO_GRAD_DEPTH.with(|d| d.set(d.get() - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_grad_nests_and_restores_after_a_panic() {
        assert!(is_grad_enabled());
        no_grad(|| {
            assert!(!is_grad_enabled());
            no_grad(|| assert!(!is_grad_enabled()));
            assert!(!is_grad_enabled());
        });
        assert!(is_grad_enabled());
        let caught = std::panic::catch_unwind(|| no_grad(|| panic!("inside")));
        assert!(caught.is_err());
        assert!(is_grad_enabled());
        std::thread::spawn(|| assert!(is_grad_enabled())).join().unwrap();
    }
}
