//! Resource id patterns: `*` matches any run of characters (slashes included), `?` one
//! character; everything else matches itself. Enough for ARNs and short ids without a
//! glob dependency.

/// Whether `text` matches `pattern` as a whole.
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matching with backtracking to the last `*`: linear in practice, no recursion.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn globs() {
        assert!(matches("sg-0abc*", "sg-0abc123"));
        assert!(matches("*", ""));
        assert!(matches(
            "arn:aws:ec2:*:*:security-group/sg-1",
            "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-1"
        ));
        assert!(!matches(
            "arn:aws:ec2:*:*:security-group/sg-1",
            "arn:aws:ec2:eu-west-1:111111111111:security-group/sg-12"
        ));
        assert!(matches("sg-?", "sg-1"));
        assert!(!matches("sg-?", "sg-12"));
        assert!(matches("*bucket*", "arn:aws:s3:::my-bucket-logs"));
        assert!(!matches("abc", "abcd"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("**", "anything"));
    }
}
