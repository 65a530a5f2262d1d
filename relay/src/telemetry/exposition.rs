//! Which text format `/metrics` answers in. Prometheus asks for OpenMetrics (its scrape
//! requests' `Accept` header names `application/openmetrics-text`), and gets what the
//! registry writes. Anything else (curl, `promtool check metrics`, older scrapers) gets the
//! classic Prometheus text format 0.0.4, as client_golang does: the same samples, but a
//! counter's `# HELP`/`# TYPE` name carries its `_total` suffix, an info metric is a gauge
//! named `…_info`, and there are no `# UNIT` or `# EOF` lines. (Read as 0.0.4, OpenMetrics
//! output makes every counter an untyped metric without help text.)

/// A text exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OpenMetrics,
    Prometheus,
}

impl Format {
    /// The format an `Accept` header asks for.
    pub fn negotiate(accept: Option<&str>) -> Format {
        match accept {
            Some(accept) if accept.to_ascii_lowercase().contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// OpenMetrics text (as `prometheus-client` writes it: `# HELP`, `# TYPE`, `# UNIT`, then
/// the samples of each family) in the Prometheus 0.0.4 text format.
pub fn to_prometheus_text(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    // A family's HELP line waits until its TYPE says what the family is called in 0.0.4.
    let mut help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
            help = Some((name, text));
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "untyped"));
            let (name, kind) = match kind {
                "counter" => (format!("{name}_total"), "counter"),
                "info" => (format!("{name}_info"), "gauge"),
                "gauge" | "histogram" | "summary" => (name.to_owned(), kind),
                _ => (name.to_owned(), "untyped"),
            };
            if let Some((_, text)) = help.take() {
                out.push_str(&format!("# HELP {name} {text}\n"));
            }
            out.push_str(&format!("# TYPE {name} {kind}\n"));
        } else if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        } else {
            if let Some((name, text)) = help.take() {
                out.push_str(&format!("# HELP {name} {text}\n"));
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_asks_for_openmetrics_and_everyone_else_gets_text() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Prometheus);
        assert_eq!(Format::negotiate(None), Format::Prometheus);
    }

    #[test]
    fn counters_and_info_metrics_take_their_sample_names() {
        let openmetrics = "# HELP relay_frames_in WebSocket frames received.\n# TYPE relay_frames_in counter\nrelay_frames_in_total 3\n\
            # HELP relay_durable_ack_seconds Receipt to durability.\n# TYPE relay_durable_ack_seconds histogram\n# UNIT relay_durable_ack_seconds seconds\n\
            relay_durable_ack_seconds_sum 0.5\nrelay_durable_ack_seconds_count 2\nrelay_durable_ack_seconds_bucket{le=\"+Inf\"} 2\n\
            # HELP relay_build The build.\n# TYPE relay_build info\nrelay_build_info{version=\"0.1.0\",commit=\"abc\"} 1\n# EOF\n";
        let text = to_prometheus_text(openmetrics);
        assert_eq!(
            text,
            "# HELP relay_frames_in_total WebSocket frames received.\n# TYPE relay_frames_in_total counter\nrelay_frames_in_total 3\n\
             # HELP relay_durable_ack_seconds Receipt to durability.\n# TYPE relay_durable_ack_seconds histogram\n\
             relay_durable_ack_seconds_sum 0.5\nrelay_durable_ack_seconds_count 2\nrelay_durable_ack_seconds_bucket{le=\"+Inf\"} 2\n\
             # HELP relay_build_info The build.\n# TYPE relay_build_info gauge\nrelay_build_info{version=\"0.1.0\",commit=\"abc\"} 1\n"
        );
    }
}
