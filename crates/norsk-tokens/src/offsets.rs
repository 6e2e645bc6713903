/// Converts byte offsets of one text into character (Unicode scalar) offsets.
///
/// Python's `str` indexes by code point, so `transformers` reports character
/// offsets; Rust's `str` indexes by byte. Building the index is O(n) once, each
/// lookup O(log n), so converting every entity of a huge article stays cheap.
#[derive(Debug, Clone)]
pub struct CharIndex {
    /// Byte position of every character start, plus the text length at the end.
    starts: Vec<usize>,
}

impl CharIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        let mut starts: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        starts.push(text.len());
        Self { starts }
    }

    /// Number of characters in the text.
    pub fn char_len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Character offset of a byte offset that lies on a character boundary.
    /// A byte offset inside a character maps to that character's start.
    pub fn char_of_byte(&self, byte: usize) -> usize {
        match self.starts.binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Byte offset of a character offset (the text length past the end).
    pub fn byte_of_char(&self, ch: usize) -> usize {
        self.starts[ch.min(self.starts.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn maps_multibyte_characters() {
        let text = "Tromsø 👩‍👩‍👧 e\u{301}";
        let index = CharIndex::new(text);
        assert_eq!(index.char_len(), text.chars().count());
        let ø = text.find('ø').unwrap();
        assert_eq!(index.char_of_byte(ø), 5);
        assert_eq!(index.byte_of_char(5), ø);
        assert_eq!(index.char_of_byte(text.len()), text.chars().count());
    }

    proptest! {
        #[test]
        fn round_trips_every_boundary(text in "\\PC*") {
            let index = CharIndex::new(&text);
            for (ch, (byte, _)) in text.char_indices().enumerate() {
                prop_assert_eq!(index.char_of_byte(byte), ch);
                prop_assert_eq!(index.byte_of_char(ch), byte);
            }
        }
    }
}
