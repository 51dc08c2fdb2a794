//! A one-line text input for paths (not secret).

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextInput {
    pub value: String,
}

impl TextInput {
    pub fn new(value: impl Into<String>) -> TextInput {
        TextInput {
            value: value.into(),
        }
    }

    pub fn push(&mut self, c: char) {
        if !c.is_control() {
            self.value.push(c);
        }
    }

    pub fn pop(&mut self) {
        self.value.pop();
    }

    /// The tail that fits in `width` columns, so the end being typed stays visible.
    pub fn visible(&self, width: usize) -> String {
        let chars: Vec<char> = self.value.chars().collect();
        let start = chars.len().saturating_sub(width.saturating_sub(1));
        chars[start..].iter().collect()
    }
}
