//! The collector's name: `#[collector(name = "..")]`, or the struct's in kebab-case.

use crate::ast::Input;

/// `#[collector(name = "..")]`, or the struct's name in kebab-case.
pub(crate) fn collector_name(input: &Input) -> String {
    match &input.container.name {
        Some(name) => name.value(),
        None => kebab_case(&input.ident.to_string()),
    }
}

/// `QueueMetrics` -> `queue-metrics`, `HTTPServerStats` -> `http-server-stats`.
fn kebab_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            out.push('-');
            continue;
        }
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev != '_' && (prev.is_lowercase() || prev.is_ascii_digit() || next_is_lower) {
                out.push('-');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::kebab_case;

    #[test]
    fn kebab_case_splits_words_and_acronyms() {
        assert_eq!(kebab_case("QueueMetrics"), "queue-metrics");
        assert_eq!(kebab_case("HTTPServerStats"), "http-server-stats");
        assert_eq!(kebab_case("Io2Metrics"), "io2-metrics");
        assert_eq!(kebab_case("snake_case_name"), "snake-case-name");
        assert_eq!(kebab_case("X"), "x");
    }
}
