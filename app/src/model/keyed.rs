//! A map from text keys kept as one `Vec` sorted by key: what the board keeps by path or id (its
//! cards, problems and sessions; as a set, `Keyed<()>`), and the lane counts the socket and the
//! snapshots carry (a JSON object, as a `BTreeMap` is written). Lookups are a binary search; an
//! insertion or a removal moves the entries after it (the page holds hundreds to a few thousand:
//! microseconds). It is here for the WASM's size: a `BTreeMap` brings its node operations into
//! the client once per value type (the three of the board were 50 KB before wasm-opt;
//! BENCHMARKS.md), this a binary search and a `Vec`'s, and one sort for all of them.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Index;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Entries by key, in the order of their keys, as a `BTreeMap<String, V>` iterates.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyed<V> {
    entries: Vec<(String, V)>,
}

impl<V> Default for Keyed<V> {
    fn default() -> Keyed<V> {
        Keyed {
            entries: Vec::new(),
        }
    }
}

impl<V> Keyed<V> {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|(held, _)| held.as_str().cmp(key))
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.find(key).ok().map(|at| &self.entries[at].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.find(key).ok().map(|at| &mut self.entries[at].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// Sets `key`'s value; the one it replaces, if any.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (key, value));
                None
            }
        }
    }

    /// `key`'s value, inserted as `V::default()` if it has none.
    pub fn get_or_insert_default(&mut self, key: String) -> &mut V
    where
        V: Default,
    {
        let at = match self.find(&key) {
            Ok(at) => at,
            Err(at) => {
                self.entries.insert(at, (key, V::default()));
                at
            }
        };
        &mut self.entries[at].1
    }

    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.find(key).ok().map(|at| self.entries.remove(at).1)
    }

    /// Keeps the entries `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut V) -> bool) {
        self.entries.retain_mut(|(key, value)| keep(key, value));
    }

    /// The keys, in their order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &str> + '_ {
        self.entries.iter().map(|(key, _)| key.as_str())
    }

    /// The values, in the order of their keys.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + '_ {
        self.entries.iter().map(|(_, value)| value)
    }

    /// The entries, in the order of their keys.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &V)> + '_ {
        self.entries
            .iter()
            .map(|(key, value)| (key.as_str(), value))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// As a `BTreeMap` collects: the last value given for a key wins.
impl<V> FromIterator<(String, V)> for Keyed<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(entries: I) -> Keyed<V> {
        let given: Vec<(String, V)> = entries.into_iter().collect();
        let keys: Vec<&str> = given.iter().map(|(key, _)| key.as_str()).collect();
        let order = sorted_last_of_each(&keys);
        let mut slots: Vec<Option<(String, V)>> = given.into_iter().map(Some).collect();
        Keyed {
            entries: order
                .into_iter()
                .filter_map(|at| slots[at].take())
                .collect(),
        }
    }
}

/// The positions of `keys` in the order of the keys, the last one only of equal keys. Not
/// generic, so the client carries one sort whatever the values are.
fn sorted_last_of_each(keys: &[&str]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    // Stable: equal keys stay in the order given, and the last of each run is kept.
    order.sort_by(|a, b| keys[*a].cmp(keys[*b]));
    let mut kept: Vec<usize> = Vec::with_capacity(order.len());
    for at in order {
        match kept.last_mut() {
            Some(last) if keys[*last] == keys[at] => *last = at,
            _ => kept.push(at),
        }
    }
    kept
}

/// The entries, in the order of their keys, taken.
impl<V> IntoIterator for Keyed<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// A JSON object, its members in the order of their keys (as a `BTreeMap` is written).
impl<V: Serialize> Serialize for Keyed<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

/// Read from an object in any order; as [`FromIterator`], the last value of a repeated key wins.
impl<'de, V: Deserialize<'de>> Deserialize<'de> for Keyed<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for Members<V> {
            type Value = Keyed<V>;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Keyed<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = members.next_entry::<String, V>()? {
                    entries.push(entry);
                }
                Ok(entries.into_iter().collect())
            }
        }

        deserializer.deserialize_map(Members(PhantomData))
    }
}

/// The same, for the browser's lean reader ([`super::lean`]).
impl<V: super::lean::FromJson> super::lean::FromJson for Keyed<V> {
    fn from_json<J: super::lean::JsonValue>(value: &J) -> Result<Self, super::lean::ReadError> {
        Ok(super::lean::read_members(value)?.into_iter().collect())
    }

    fn placeholder() -> Self {
        Keyed::default()
    }
}

impl<V> Index<&str> for Keyed<V> {
    type Output = V;

    fn index(&self, key: &str) -> &V {
        self.get(key).expect("no entry for this key")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The same operations on a `BTreeMap` and on a `Keyed` leave the same entries, in the same
    /// order, and answer the same.
    #[test]
    fn behaves_as_a_btree_map() {
        let given = [("b", 1), ("a", 2), ("c", 3), ("a", 4), ("d", 5), ("b", 6)];
        let mut tree: BTreeMap<String, i32> =
            given.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let mut keyed: Keyed<i32> = given.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let same = |tree: &BTreeMap<String, i32>, keyed: &Keyed<i32>| {
            let tree: Vec<(&str, &i32)> = tree.iter().map(|(k, v)| (k.as_str(), v)).collect();
            let keyed: Vec<(&str, &i32)> = keyed.iter().collect();
            assert_eq!(tree, keyed);
        };
        same(&tree, &keyed);
        assert_eq!(keyed["a"], 4);
        assert_eq!(tree.insert("e".into(), 7), keyed.insert("e".into(), 7));
        assert_eq!(tree.insert("a".into(), 8), keyed.insert("a".into(), 8));
        assert_eq!(tree.insert("0".into(), 9), keyed.insert("0".into(), 9));
        same(&tree, &keyed);
        assert_eq!(tree.remove("c"), keyed.remove("c"));
        assert_eq!(tree.remove("zz"), keyed.remove("zz"));
        assert_eq!(tree.get("zz"), keyed.get("zz"));
        assert_eq!(tree.contains_key("d"), keyed.contains_key("d"));
        *tree.get_mut("d").unwrap() += 10;
        *keyed.get_mut("d").unwrap() += 10;
        tree.retain(|_, v| *v % 2 == 1);
        keyed.retain(|_, v| *v % 2 == 1);
        same(&tree, &keyed);
        assert_eq!(
            (tree.len(), tree.is_empty()),
            (keyed.len(), keyed.is_empty())
        );
        assert_eq!(
            tree.values().rev().collect::<Vec<_>>(),
            keyed.values().rev().collect::<Vec<_>>()
        );
    }

    /// Written as a `BTreeMap` is, and read back from an object in any order (the last value
    /// of a repeated key winning, as serde_json's `BTreeMap` reads it).
    #[test]
    fn is_written_and_read_as_a_btree_map() {
        let json = r#"{"inbox":2,"done/bob":7,"assigned/ada":1,"inbox":3}"#;
        let keyed: Keyed<usize> = serde_json::from_str(json).unwrap();
        let tree: BTreeMap<String, usize> = serde_json::from_str(json).unwrap();
        assert_eq!(
            keyed
                .iter()
                .map(|(k, v)| (k.to_owned(), *v))
                .collect::<Vec<_>>(),
            tree.clone().into_iter().collect::<Vec<_>>()
        );
        assert_eq!(
            serde_json::to_string(&keyed).unwrap(),
            serde_json::to_string(&tree).unwrap()
        );
        assert!(serde_json::from_str::<Keyed<usize>>("[1]").is_err());
        let mut counts = Keyed::<usize>::default();
        *counts.get_or_insert_default("b".into()) += 1;
        *counts.get_or_insert_default("a".into()) += 1;
        *counts.get_or_insert_default("b".into()) += 1;
        assert_eq!(counts.iter().collect::<Vec<_>>(), [("a", &1), ("b", &2)]);
    }
}
