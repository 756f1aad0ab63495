//! Named, timed steps of a task, summarised at the end.

use std::time::{Duration, Instant};

use anyhow::Result;

/// The steps a task ran, in order, with their durations and outcomes.
#[derive(Debug, Default)]
pub struct Steps {
    done: Vec<(String, Duration, bool)>,
}

impl Steps {
    /// Runs one step, announcing it on stderr and recording how long it took.
    pub fn run<T>(&mut self, name: &str, step: impl FnOnce() -> Result<T>) -> Result<T> {
        eprintln!("xtask: {name}…");
        let start = Instant::now();
        let result = step();
        self.done
            .push((name.to_owned(), start.elapsed(), result.is_ok()));
        result
    }

    /// The summary table, one line per step.
    pub fn summary(&self) -> String {
        let width = self
            .done
            .iter()
            .map(|(name, ..)| name.len())
            .max()
            .unwrap_or(0);
        let mut text = String::from("xtask: step timings\n");
        for (name, duration, ok) in &self.done {
            let outcome = if *ok { "ok" } else { "FAILED" };
            text.push_str(&format!(
                "  {name:<width$}  {:>8}  {outcome}\n",
                format_duration(*duration)
            ));
        }
        text
    }
}

fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = duration.as_secs();
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(format_duration(Duration::from_secs(754)), "12m34s");
    }

    #[test]
    fn records_each_step_and_its_outcome() {
        let mut steps = Steps::default();
        assert_eq!(steps.run("first", || Ok(1)).unwrap(), 1);
        assert!(
            steps
                .run("second step", || -> Result<()> { anyhow::bail!("no") })
                .is_err()
        );
        let summary = steps.summary();
        let lines: Vec<&str> = summary.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].starts_with("  first        "), "{summary}");
        assert!(lines[1].ends_with("  ok"), "{summary}");
        assert!(lines[2].ends_with("  FAILED"), "{summary}");
    }
}
