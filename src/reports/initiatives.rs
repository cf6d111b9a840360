//! The portfolio (`GET /api/portfolio`): the repository's specifications grouped by initiative,
//! the board's tasks linked to them through their `specification` field, progress at every level,
//! and the orphans: tasks that name no specification or one that is not there.
//!
//! Differences from the original, on purpose: a task links by the path it names (with or without
//! `./`) or by the specification's `id`, and a linked task is never an orphan (the original
//! listed every linked task as an orphan too); progress uses the weighted rule the original
//! specified but did not wire (done 100, in progress 50, blocked 25), a manual `completion`
//! overriding it; a specification without `initiative` is listed under "No initiative" instead of
//! being dropped; priorities compare in any case; tasks come from the board (each file once), not
//! from every `*.yaml` under the folder.

use std::collections::BTreeMap;

use std::collections::HashMap;

use app::model::{
    task_weight, CostShare, FeatureProgress, Initiative, InitiativeCost, Portfolio, PortfolioCosts,
    PortfolioTask, SpecificationCost, SpecificationList, SpecificationProgress, SpecificationRef,
    Task, TaskCost,
};

/// Where specifications without an `initiative` are listed.
const NO_INITIATIVE: &str = "No initiative";

/// The portfolio of `specifications` and `tasks`, stamped `timestamp`.
pub(crate) fn build<'a>(
    specifications: SpecificationList,
    tasks: impl IntoIterator<Item = &'a Task>,
    timestamp: String,
) -> Portfolio {
    let SpecificationList {
        specifications,
        problems,
        ..
    } = specifications;
    let by_path: BTreeMap<&str, usize> = specifications
        .iter()
        .enumerate()
        .map(|(at, spec)| (spec.path.as_str(), at))
        .collect();
    let by_id: BTreeMap<&str, usize> = specifications
        .iter()
        .enumerate()
        .filter_map(|(at, spec)| Some((spec.id.as_deref()?, at)))
        .collect();
    let mut linked: Vec<Vec<PortfolioTask>> = vec![Vec::new(); specifications.len()];
    let mut orphans = Vec::new();
    for task in tasks {
        let entry = portfolio_task(task);
        let named = task
            .specification
            .as_deref()
            .map(|s| s.trim().trim_start_matches("./"));
        let found =
            named.and_then(|named| by_path.get(named).or_else(|| by_id.get(named)).copied());
        match found {
            Some(at) => linked[at].push(PortfolioTask {
                specification: None,
                ..entry
            }),
            None => orphans.push(entry),
        }
    }
    orphans.sort_by(|a, b| a.path.cmp(&b.path));

    let mut initiatives: BTreeMap<(bool, String), Vec<SpecificationProgress>> = BTreeMap::new();
    for (spec, mut tasks) in specifications.into_iter().zip(linked) {
        tasks.sort_by(|a, b| (&a.id, &a.path).cmp(&(&b.id, &b.path)));
        let initiative = spec.initiative.clone();
        let progress = specification_progress(spec, tasks);
        initiatives
            .entry((
                initiative.is_none(),
                initiative.unwrap_or_else(|| NO_INITIATIVE.to_owned()),
            ))
            .or_default()
            .push(progress);
    }
    Portfolio {
        initiatives: initiatives
            .into_iter()
            .map(|((_, title), specs)| initiative(title, specs))
            .collect(),
        orphans,
        problems,
        timestamp,
    }
}

fn portfolio_task(task: &Task) -> PortfolioTask {
    // Only a task that names a specification can name one of its features: the others' documents
    // are not parsed.
    let feature =
        task.specification
            .as_ref()
            .and_then(|_| match task.document.value().get("feature")? {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
    PortfolioTask {
        id: task.id.clone(),
        title: task.title.clone(),
        agent: task.owner().map(str::to_owned),
        status: task.status.clone(),
        priority: task
            .priority
            .map(|p| app::edits::wire_priority(p).to_owned()),
        feature,
        path: task.path.clone(),
        specification: task.specification.clone(),
    }
}

/// The mean weight of `tasks`, 0 for none.
fn progress_of<'a>(tasks: impl IntoIterator<Item = &'a PortfolioTask>) -> (u8, usize) {
    let (sum, count) = tasks.into_iter().fold((0u32, 0usize), |(sum, n), task| {
        (sum + task_weight(task.status.as_deref()), n + 1)
    });
    let progress = if count == 0 {
        0
    } else {
        (sum / count as u32) as u8
    };
    (progress, count)
}

fn specification_progress(
    spec: SpecificationRef,
    tasks: Vec<PortfolioTask>,
) -> SpecificationProgress {
    let (measured, task_count) = progress_of(&tasks);
    let names = |feature: &app::model::FeatureRef, task: &PortfolioTask| {
        task.feature.as_deref().is_some_and(|named| {
            let named = named.trim();
            named.eq_ignore_ascii_case(&feature.title)
                || feature
                    .id
                    .as_deref()
                    .is_some_and(|id| named.eq_ignore_ascii_case(id))
        })
    };
    let features = spec
        .features
        .iter()
        .map(|feature| {
            let (progress, task_count) =
                progress_of(tasks.iter().filter(|task| names(feature, task)));
            FeatureProgress {
                id: feature.id.clone(),
                title: feature.title.clone(),
                status: feature.status.clone(),
                task_count,
                progress,
            }
        })
        .collect();
    SpecificationProgress {
        specification_path: spec
            .path
            .strip_prefix("specifications/")
            .unwrap_or(&spec.path)
            .to_owned(),
        initiative: spec
            .initiative
            .clone()
            .unwrap_or_else(|| NO_INITIATIVE.to_owned()),
        priority: spec
            .priority
            .as_deref()
            .map(str::to_uppercase)
            .unwrap_or_else(|| "MEDIUM".to_owned()),
        progress: spec.completion.unwrap_or(measured),
        completion: spec.completion,
        done_count: tasks
            .iter()
            .filter(|t| task_weight(t.status.as_deref()) == 100)
            .count(),
        task_count,
        features,
        tasks,
        id: spec.id,
        title: spec.title,
        status: spec.status,
        path: spec.path,
    }
}

fn initiative(title: String, mut specifications: Vec<SpecificationProgress>) -> Initiative {
    specifications.sort_by(|a, b| (&a.title, &a.path).cmp(&(&b.title, &b.path)));
    // Each specification weighs as many tasks as it has, at least one.
    let (sum, weight) = specifications
        .iter()
        .fold((0usize, 0usize), |(s, w), spec| {
            let weight = spec.task_count.max(1);
            (s + spec.progress as usize * weight, w + weight)
        });
    let status = specifications
        .iter()
        .filter_map(|s| s.status.as_deref())
        .max_by_key(|status| status_rank(status))
        .unwrap_or("draft")
        .to_owned();
    let priority = specifications
        .iter()
        .map(|s| s.priority.as_str())
        .max_by_key(|priority| priority_rank(priority))
        .unwrap_or("MEDIUM")
        .to_owned();
    Initiative {
        id: title.to_lowercase().replace(' ', "-"),
        status,
        priority,
        progress: sum.checked_div(weight).unwrap_or(0) as u8,
        spec_count: specifications.len(),
        task_count: specifications.iter().map(|s| s.task_count).sum(),
        specifications,
        title,
    }
}

/// The original's "most advanced" order of specification statuses.
fn status_rank(status: &str) -> u8 {
    match status.to_ascii_lowercase().as_str() {
        "draft" | "planned" => 1,
        "in_progress" => 2,
        "implemented" | "complete" | "done" => 3,
        _ => 0,
    }
}

fn priority_rank(priority: &str) -> u8 {
    match priority.to_ascii_uppercase().as_str() {
        "CRITICAL" => 4,
        "HIGH" => 3,
        "LOW" => 1,
        _ => 2,
    }
}

/// What each initiative and specification of `portfolio` cost, from what each task id cost
/// (`task_costs`); what no specification's task explains is `unlinked`.
pub(crate) fn costs(
    portfolio: &Portfolio,
    task_costs: &[TaskCost],
    generated_at: String,
) -> PortfolioCosts {
    let by_task: HashMap<&str, CostShare> = task_costs
        .iter()
        .map(|c| {
            let share = CostShare {
                cost_usd: c.cost_usd,
                tokens: c.tokens,
                invocations: c.invocations,
            };
            (c.task_id.as_str(), share)
        })
        .collect();
    let mut total = CostShare::default();
    by_task.values().for_each(|share| total.add(*share));
    let mut linked = CostShare::default();
    let initiatives = portfolio
        .initiatives
        .iter()
        .map(|initiative| {
            let mut cost = CostShare::default();
            let mut specifications: Vec<SpecificationCost> = initiative
                .specifications
                .iter()
                .map(|spec| {
                    let mut share = CostShare::default();
                    for task in &spec.tasks {
                        if let Some(task_cost) = by_task.get(task.id.as_str()) {
                            share.add(*task_cost);
                        }
                    }
                    cost.add(share);
                    SpecificationCost {
                        path: spec.path.clone(),
                        title: spec.title.clone(),
                        cost: share,
                    }
                })
                .collect();
            specifications.sort_by(|a, b| b.cost.cost_usd.total_cmp(&a.cost.cost_usd));
            linked.add(cost);
            InitiativeCost {
                id: initiative.id.clone(),
                title: initiative.title.clone(),
                cost,
                specifications,
            }
        })
        .collect();
    let unlinked = CostShare {
        cost_usd: (total.cost_usd - linked.cost_usd).max(0.0),
        tokens: total.tokens.saturating_sub(linked.tokens),
        invocations: total.invocations.saturating_sub(linked.invocations),
    };
    PortfolioCosts {
        initiatives,
        unlinked,
        total,
        generated_at,
    }
}
