//! A task's specification in its detail: linking it to one (the original's orphan assignment)
//! and reading it.
//!
//! Both are a button until used: what they show once opened, the list or the document they read
//! and the code that reads it are lazily loaded functions (`#[lazy]`, a WASM module each, fetched
//! on the first click), not part of the detail's module.

use leptos::prelude::*;

use super::use_dashboard;
use crate::edits::{editable, link_specification};
use crate::format::lowercase;
use crate::model::{SpecificationDocument, SpecificationList, SpecificationRef, TaskSummary};
use crate::state::Dashboard;

/// What the specification list says, once read (`GET /api/specifications`): kept by the detail,
/// so the list is read once however often the picker opens.
type ListRead = RwSignal<Option<Result<SpecificationList, String>>>;

/// "Link to a specification…" in a task's detail (the original's orphan assignment): a search
/// over the repository's specifications (`GET /api/specifications`), grouped by initiative, a
/// feature of the chosen one, and Link. Shown only where the page may edit the task.
#[component]
pub fn SpecificationPicker(task: TaskSummary) -> impl IntoView {
    let dashboard = use_dashboard();
    if editable(&dashboard, &task).is_err() {
        return ().into_any();
    }
    let open = RwSignal::new(false);
    let list: ListRead = RwSignal::new(None);
    let label = if task.specification.is_some() {
        "Change the specification…"
    } else {
        "Link to a specification…"
    };
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button class="link-specification" on:click=move |_| open.set(true)>{label}</button>
            }
        >
            {
                let task = task.clone();
                move || Suspend::new(picker_panel(dashboard, task.clone(), open, list))
            }
        </Show>
    }
    .into_any()
}

/// The picker, opened: the search, the list, the feature and Link (loaded on the first open).
#[lazy]
fn picker_panel(
    dashboard: Dashboard,
    task: TaskSummary,
    open: RwSignal<bool>,
    list: ListRead,
) -> AnyView {
    let query = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<SpecificationRef>);
    let feature = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let refusal = RwSignal::new(None::<String>);
    if list.with_untracked(Option::is_none) {
        fetch_list(list);
    }
    let shown = move || {
        let query = lowercase(query.get().trim());
        list.with(|l| match l {
            Some(Ok(list)) => Some(Ok(list
                .specifications
                .iter()
                .filter(|s| s.matches(&query))
                .cloned()
                .collect::<Vec<_>>())),
            Some(Err(reason)) => Some(Err(reason.clone())),
            None => None,
        })
    };
    let choose = move |spec: SpecificationRef| {
        feature.set(String::new());
        chosen.set(Some(spec));
    };
    let link = move |_| {
        let Some(spec) = chosen.get_untracked() else {
            return;
        };
        let feature = Some(feature.get_untracked()).filter(|f| !f.is_empty());
        busy.set(true);
        refusal.set(None);
        let title = spec.title.clone();
        let id = task.id.clone();
        link_specification(dashboard, &task, spec.path, feature, move |outcome| {
            busy.set(false);
            match outcome {
                Ok(()) => {
                    open.set(false);
                    dashboard.toast(format!("{id} is linked to {title}"));
                }
                Err(reason) => refusal.set(Some(reason)),
            }
        });
    };
    view! {
        <section class="specification-picker" aria-label="Link to a specification">
            <input
                type="search"
                class="specification-search"
                placeholder="Search specifications and features"
                aria-label="Search specifications"
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
                on:keydown=|ev| ev.stop_propagation()
            />
            {move || match shown() {
                None => view! { <p class="loading">"Reading the specifications…"</p> }.into_any(),
                Some(Err(reason)) => view! { <p class="detail-error">{reason}</p> }.into_any(),
                Some(Ok(specs)) if specs.is_empty() => view! {
                    <p class="empty">"No specification matches (they are read from specifications/**/*.md)."</p>
                }
                .into_any(),
                Some(Ok(specs)) => view! {
                    <ul class="specification-list">
                        {specs
                            .into_iter()
                            .map(|spec| {
                                let path = spec.path.clone();
                                let selected = Signal::derive(move || chosen.with(|c| c.as_ref().is_some_and(|c| c.path == path)));
                                let group = spec.initiative.clone().unwrap_or_else(|| "No initiative".into());
                                let title = spec.title.clone();
                                let shown_path = spec.path.clone();
                                view! {
                                    <li>
                                        <button
                                            class="specification-choice"
                                            class:chosen=selected
                                            aria-pressed=move || selected.get().to_string()
                                            on:click=move |_| choose(spec.clone())
                                        >
                                            <span class="initiative">{group}</span>
                                            <span class="title">{title}</span>
                                            <span class="path">{shown_path}</span>
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any(),
            }}
            {move || chosen.get().filter(|s| !s.features.is_empty()).map(|spec| view! {
                <label class="feature-choice">
                    "Feature "
                    <select on:change=move |ev| feature.set(event_target_value(&ev))>
                        <option value="" selected=true>"(none)"</option>
                        {spec
                            .features
                            .into_iter()
                            .map(|f| view! { <option value=f.title.clone()>{f.title.clone()}</option> })
                            .collect_view()}
                    </select>
                </label>
            })}
            {move || refusal.get().map(|reason| view! { <p class="detail-error" role="alert">{reason}</p> })}
            <div class="picker-actions">
                <button
                    class="link"
                    disabled=move || busy.get() || chosen.with(Option::is_none)
                    on:click=link.clone()
                >
                    {move || match (busy.get(), chosen.get()) {
                        (true, _) => "Linking…".to_owned(),
                        (false, Some(spec)) => format!("Link to {}", spec.title),
                        (false, None) => "Choose a specification".to_owned(),
                    }}
                </button>
                <button class="cancel" on:click=move |_| open.set(false)>"Cancel"</button>
            </div>
        </section>
    }
    .into_any()
}

/// `GET /api/specifications` into `list`.
fn fetch_list(list: ListRead) {
    #[cfg(feature = "hydrate")]
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = crate::api::get_json::<SpecificationList>("/api/specifications").await;
        list.set(Some(outcome));
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = list;
}

/// What the specification's document says, once read: kept by the detail, so it is read once
/// however often it is shown.
type DocumentRead = RwSignal<Option<Result<SpecificationDocument, String>>>;

/// "Read the specification": the task's specification, rendered on the server
/// (`GET /api/specifications/document`), shown below its fields.
#[component]
pub fn SpecificationReader(path: String) -> impl IntoView {
    let document: DocumentRead = RwSignal::new(None);
    let open = RwSignal::new(false);
    view! {
        <button
            class="read-specification"
            aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|o| *o = !*o)
        >
            {move || if open.get() { "Hide the specification" } else { "Read the specification" }}
        </button>
        <Show when=move || open.get()>
            {
                let path = path.clone();
                move || Suspend::new(specification_document(path.clone(), document))
            }
        </Show>
    }
}

/// The specification's document, shown (loaded on the first reading).
#[lazy]
fn specification_document(path: String, document: DocumentRead) -> AnyView {
    if document.with_untracked(Option::is_none) {
        fetch_document(path, document);
    }
    (move || match document.get() {
        None => view! { <p class="loading">"Reading the specification…"</p> }.into_any(),
        Some(Err(reason)) => view! { <p class="detail-error">{reason}</p> }.into_any(),
        Some(Ok(doc)) => view! {
            <section class="specification-document" aria-label=doc.title.clone()>
                <div class="markdown" inner_html=doc.html></div>
            </section>
        }
        .into_any(),
    })
    .into_any()
}

fn fetch_document(path: String, document: DocumentRead) {
    #[cfg(feature = "hydrate")]
    wasm_bindgen_futures::spawn_local(async move {
        let url = format!(
            "/api/specifications/document?path={}",
            js_sys::encode_uri_component(&path)
        );
        let outcome = crate::api::get_json::<SpecificationDocument>(&url).await;
        document.set(Some(outcome));
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (path, document);
}
