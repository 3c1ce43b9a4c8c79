//! Saying an error to a person: its message and its causes, each once.

/// `e` and its causes joined with `: `, leaving out a cause whose text is already said (many
/// errors embed their source's message, and printing the whole chain would say it twice).
pub fn one_statement(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut next = Some(e);
    while let Some(cause) = next {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text += ": ";
            }
            text += &part;
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Plain(&'static str, Option<Box<Plain>>);

    impl std::fmt::Display for Plain {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Plain {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|p| p as _)
        }
    }

    #[test]
    fn each_cause_is_said_once() {
        let inner = Box::new(Plain("`x.mp4`: no such file", None));
        let embedded = Plain("reference `x.mp4`: no such file", Some(inner));
        assert_eq!(one_statement(&embedded), "reference `x.mp4`: no such file");
        let inner = Box::new(Plain("`x.mp4`: no such file", None));
        let wrapped = Plain("cannot score", Some(inner));
        assert_eq!(one_statement(&wrapped), "cannot score: `x.mp4`: no such file");
    }
}
