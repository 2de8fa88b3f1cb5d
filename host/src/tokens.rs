//! Per-call tokens for device ids and serial numbers: equal strings get equal small
//! integers, so the guest compares integers and no id string crosses the boundary.

use mdm_engine::Text;
use rustc_hash::FxHashMap;

/// Past this many distinct ids, a hash index replaces the linear scan.
const LINEAR: usize = 16;

pub(crate) struct Tokens<'a> {
    ids: Vec<&'a Text>,
    index: Option<FxHashMap<&'a str, u32>>,
}

impl Default for Tokens<'_> {
    fn default() -> Self {
        // A login names a handful of ids: one allocation, no growth.
        Tokens { ids: Vec::with_capacity(LINEAR), index: None }
    }
}

impl<'a> Tokens<'a> {
    /// The token of `id`, assigning the next one when `id` is new.
    pub(crate) fn token(&mut self, id: &'a Text) -> u32 {
        let next = self.ids.len() as u32;
        if let Some(index) = &mut self.index {
            let t = *index.entry(id.as_str()).or_insert(next);
            if t == next {
                self.ids.push(id);
            }
            return t;
        }
        if let Some(t) = self.ids.iter().position(|x| *x == id) {
            return t as u32;
        }
        self.ids.push(id);
        if self.ids.len() > LINEAR {
            self.index = Some(self.ids.iter().enumerate().map(|(i, x)| (x.as_str(), i as u32)).collect());
        }
        next
    }

    /// The id a token stands for.
    pub(crate) fn id(&self, token: u32) -> Option<&'a Text> {
        self.ids.get(token as usize).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_ids_equal_tokens_past_the_linear_limit() {
        let ids: Vec<Text> = (0..100).map(|i| Text::new(&format!("d{i}")).unwrap()).collect();
        let again: Vec<Text> = (0..100).map(|i| Text::new(&format!("d{i}")).unwrap()).collect();
        let mut t = Tokens::default();
        let first: Vec<u32> = ids.iter().map(|i| t.token(i)).collect();
        let second: Vec<u32> = again.iter().map(|i| t.token(i)).collect();
        assert_eq!(first, second);
        assert_eq!(first, (0..100).collect::<Vec<u32>>());
        assert_eq!(t.id(42).map(|x| x.as_str()), Some("d42"));
        assert_eq!(t.id(100), None);
    }
}
