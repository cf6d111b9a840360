use leptos::prelude::*;

use super::use_dashboard;
use crate::model::Problem;

/// Every task file that cannot be read, with where and why; updates live.
#[component]
pub fn ProblemsPanel() -> impl IntoView {
    let dashboard = use_dashboard();
    let problems = Memo::new(move |_| {
        dashboard
            .board
            .with(|b| b.problems.values().cloned().collect::<Vec<_>>())
    });
    let count = move || problems.with(Vec::len);
    let count_class = move || if count() == 0 { "count" } else { "count alert" };
    view! {
        <section class="panel problems" aria-label="Problems">
            <header class="panel-header">
                <h2>"Problems"</h2>
                <span class=count_class>{count}</span>
            </header>
            <Show
                when=move || count() != 0
                fallback=|| view! { <p class="empty">"Every task file reads cleanly."</p> }
            >
                <ul class="problem-list">
                    <For
                        each=move || problems.get()
                        key=problem_key
                        let:problem
                    >
                        <li class="problem" data-path=problem.path.clone()>
                            <code class="path">{problem.path.clone()}</code>
                            {problem.line.map(|line| {
                                let at = match problem.column {
                                    Some(column) => format!("line {line}, column {column}"),
                                    None => format!("line {line}"),
                                };
                                view! { <span class="where">{at}</span> }
                            })}
                            <p class="reason">{problem.reason.clone()}</p>
                        </li>
                    </For>
                </ul>
            </Show>
        </section>
    }
}

/// A problem's key in the list: all it says (a changed problem is drawn anew). Text, as the
/// board's lists' keys are (their diffing code is there once in the WASM).
fn problem_key(problem: &Problem) -> String {
    let place = |n: Option<u32>| n.map_or_else(String::new, |n| n.to_string());
    format!(
        "{}\n{}\n{}\n{}",
        problem.path,
        place(problem.line),
        place(problem.column),
        problem.reason
    )
}
