//! Collections a field can hold: labelled series (`attribute = ".."`) and distribution samples.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Display;
use std::hash::BuildHasher;

/// A field that holds one value per series: a sequence (the index labels the series) or a map
/// (the key, displayed, labels it).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold labelled series",
    label = "`attribute = \"..\"` needs a collection here",
    note = "supported: Vec, VecDeque, slices and arrays (labelled by index), BTreeMap and HashMap \
            (labelled by key), holding numbers, bool, Duration or Option of these"
)]
pub trait Series {
    /// The value type of one series.
    type Item;
    /// Calls `f` with each series' label and value.
    fn for_each_entry<F: FnMut(Cow<'static, str>, &Self::Item)>(&self, f: F);
}

/// A field that holds the samples of a distribution.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold distribution samples",
    label = "#[distribution] needs a collection of values here",
    note = "supported: Vec, VecDeque, slices and arrays of numbers, Duration or Option of these"
)]
pub trait Samples {
    /// The type of one sample.
    type Item;
    /// Calls `f` with each sample.
    fn for_each_sample<F: FnMut(&Self::Item)>(&self, f: F);
}

fn index_label(index: usize) -> Cow<'static, str> {
    const SMALL: [&str; 16] = [
        "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
    ];
    match SMALL.get(index) {
        Some(label) => Cow::Borrowed(label),
        None => Cow::Owned(index.to_string()),
    }
}

fn sequence<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    mut f: impl FnMut(Cow<'static, str>, &T),
) {
    for (index, item) in items.enumerate() {
        f(index_label(index), item);
    }
}

impl<T> Series for [T] {
    type Item = T;
    fn for_each_entry<F: FnMut(Cow<'static, str>, &T)>(&self, f: F) {
        sequence(self.iter(), f);
    }
}

impl<T, const N: usize> Series for [T; N] {
    type Item = T;
    fn for_each_entry<F: FnMut(Cow<'static, str>, &T)>(&self, f: F) {
        sequence(self.iter(), f);
    }
}

impl<T> Series for Vec<T> {
    type Item = T;
    fn for_each_entry<F: FnMut(Cow<'static, str>, &T)>(&self, f: F) {
        sequence(self.iter(), f);
    }
}

impl<T> Series for VecDeque<T> {
    type Item = T;
    fn for_each_entry<F: FnMut(Cow<'static, str>, &T)>(&self, f: F) {
        sequence(self.iter(), f);
    }
}

impl<K: Display, V> Series for BTreeMap<K, V> {
    type Item = V;
    fn for_each_entry<F: FnMut(Cow<'static, str>, &V)>(&self, mut f: F) {
        for (key, value) in self {
            f(Cow::Owned(key.to_string()), value);
        }
    }
}

impl<K: Display, V, S: BuildHasher> Series for HashMap<K, V, S> {
    type Item = V;
    fn for_each_entry<F: FnMut(Cow<'static, str>, &V)>(&self, mut f: F) {
        for (key, value) in self {
            f(Cow::Owned(key.to_string()), value);
        }
    }
}

impl<T> Samples for [T] {
    type Item = T;
    fn for_each_sample<F: FnMut(&T)>(&self, f: F) {
        self.iter().for_each(f);
    }
}

impl<T, const N: usize> Samples for [T; N] {
    type Item = T;
    fn for_each_sample<F: FnMut(&T)>(&self, f: F) {
        self.iter().for_each(f);
    }
}

impl<T> Samples for Vec<T> {
    type Item = T;
    fn for_each_sample<F: FnMut(&T)>(&self, f: F) {
        self.iter().for_each(f);
    }
}

impl<T> Samples for VecDeque<T> {
    type Item = T;
    fn for_each_sample<F: FnMut(&T)>(&self, f: F) {
        self.iter().for_each(f);
    }
}
