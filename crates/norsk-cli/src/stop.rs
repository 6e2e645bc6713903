//! SIGTERM and SIGINT (Ctrl-C) stop a batch command at a record boundary:
//! the chunk of records in hand is finished and written, then the command
//! exits with 128 + the signal's number (143, 130). One that waits for
//! input exits at once; a second signal stops it at once wherever it is.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use anyhow::Context;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::flag;
use signal_hook::iterator::Signals;

/// Watches for SIGTERM and SIGINT while a batch command runs.
pub struct Stop {
    /// The signal that came, 0 while none has.
    signal: Arc<AtomicI32>,
    /// Held while a chunk is processed and written; its value says whether
    /// the command has taken the signal in hand itself.
    busy: Arc<Mutex<bool>>,
}

impl Stop {
    /// Catches SIGTERM and SIGINT from now on. A thread waits for them: it
    /// notes the signal, waits until no chunk is in hand, and exits unless
    /// the command stopped on its own (see [`Self::stopped`]).
    pub fn install() -> anyhow::Result<Self> {
        let context = "cannot catch SIGTERM and SIGINT";
        let armed = Arc::new(AtomicBool::new(false));
        for signal in [SIGTERM, SIGINT] {
            // The default action (ending the process) goes first and runs
            // only once the flag is set, by the first signal.
            flag::register_conditional_default(signal, Arc::clone(&armed)).context(context)?;
            flag::register(signal, Arc::clone(&armed)).context(context)?;
        }
        let mut signals = Signals::new([SIGTERM, SIGINT]).context(context)?;
        let stop = Self {
            signal: Arc::new(AtomicI32::new(0)),
            busy: Arc::new(Mutex::new(false)),
        };
        let (signal, busy) = (Arc::clone(&stop.signal), Arc::clone(&stop.busy));
        std::thread::spawn(move || {
            if let Some(number) = signals.forever().next() {
                signal.store(number, Ordering::SeqCst);
                let handled = match busy.try_lock() {
                    Ok(guard) => guard,
                    Err(TryLockError::Poisoned(e)) => e.into_inner(),
                    Err(TryLockError::WouldBlock) => {
                        eprintln!(
                            "norsk: {}: finishing the records in hand first; a second signal stops at once",
                            name(number)
                        );
                        busy.lock().unwrap_or_else(|e| e.into_inner())
                    }
                };
                if !*handled {
                    eprintln!("{}", note(number));
                    std::process::exit(128 + number);
                }
            }
        });
        Ok(stop)
    }

    /// Held while a chunk is processed and written, so that a signal ends
    /// the command only after it.
    pub fn busy(&self) -> MutexGuard<'_, bool> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The signal that came, if one has; with `busy` (the guard of the
    /// chunk just written) the command takes it in hand and ends itself.
    pub fn stopped(&self, mut busy: MutexGuard<'_, bool>) -> Option<i32> {
        let number = self.signal.load(Ordering::SeqCst);
        if number == 0 {
            return None;
        }
        *busy = true;
        Some(number)
    }
}

/// What the command says when a signal stopped it.
pub fn note(signal: i32) -> String {
    format!(
        "norsk: stopped by {}; the output ends after a whole record (--resume goes on from there)",
        name(signal)
    )
}

fn name(signal: i32) -> &'static str {
    match signal {
        SIGTERM => "SIGTERM",
        SIGINT => "SIGINT",
        _ => "a signal",
    }
}
