//! Shared by the benchmark binaries.

use std::time::Duration;

/// Prints p50 / p95 / p99 / max of `samples` (sorted in place), in milliseconds.
pub fn percentiles(name: &str, samples: &mut [Duration]) {
    samples.sort();
    let at =
        |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).clamp(1, samples.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<48} n={:<5} p50={:>8.3} ms  p95={:>8.3} ms  p99={:>8.3} ms  max={:>8.3} ms",
        samples.len(),
        ms(at(0.50)),
        ms(at(0.95)),
        ms(at(0.99)),
        ms(*samples.last().unwrap())
    );
}
