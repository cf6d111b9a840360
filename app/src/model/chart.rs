//! Charts as the server draws them: SVG text by name (`GET /api/charts/…`). The browser shows
//! them as they come, so the drawing code (plotters) is not in the WASM client.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

use super::Keyed;

/// A page's charts by name (`daily`, `by-model`…); a chart with nothing to draw is absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
#[serde(transparent)]
pub struct Charts(pub Keyed<String>);

impl Charts {
    /// The chart named `name`, if there was anything to draw.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    /// The charts given, those with something to draw.
    pub fn of(charts: impl IntoIterator<Item = (&'static str, Option<String>)>) -> Charts {
        Charts(
            charts
                .into_iter()
                .filter_map(|(name, svg)| Some((name.to_owned(), svg?)))
                .collect(),
        )
    }
}
