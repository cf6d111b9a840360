//! The dashboard's components. They read the [`Dashboard`](crate::state::Dashboard) from context
//! and never open sockets or files.

mod agents;
mod assign;
mod board;
mod card;
mod connect;
mod costs;
mod detail;
mod filters;
mod header;
mod history;
mod initiatives;
mod mcp;
mod priority;
mod problems;
mod sessions;

use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::{lazy_route, path, Lazy, LazyRoute};

use crate::api::PageData;
use crate::model::Charts;
use crate::state::Dashboard;

pub use agents::{AgentDetailPage, AgentsPage};
pub use board::Board;
pub use connect::ConnectPage;
pub use costs::{BudgetBanner, CostSummary, CostsPage, CostsPanel};
pub use detail::TaskDetail;
pub use filters::FilterBar;
pub use header::Header;
pub use history::HistoryPage;
pub use initiatives::InitiativesPage;
pub use mcp::McpPage;
pub use problems::ProblemsPanel;
pub use sessions::{BrowserNotifications, SessionsPage};

/// The whole page body: header, the page the address names (the board, under which a task's
/// detail opens, or the initiatives), and the detail panel. Pages change without a reload: the
/// socket and every signal live above the router.
///
/// The board stands beside the routes rather than as a parent route: a task's address shows the
/// board with the detail over it, so a task opened or closed does not draw the board again, and
/// the flat router costs 14 KB less of the first load than a nested one (BENCHMARKS.md, "What ≤
/// 200 KB would take").
#[component]
pub fn App() -> impl IntoView {
    let dashboard = use_dashboard();
    let base = dashboard.settings.with_value(|s| s.base.clone());
    view! {
        <Router base=base>
            <div class="app">
                <Header/>
                <BudgetBanner/>
                <DocumentTitle/>
                <FollowAddress/>
                <BoardPage/>
                <FlatRoutes fallback=NotFoundPage>
                    <Route path=path!("") view=|| ()/>
                    // The detail's code is loaded with the first task opened.
                    <Route path=path!("tasks/:id") view={Lazy::<TaskRoute>::new()}/>
                    <Route path=path!("/initiatives") view={Lazy::<InitiativesRoute>::new()}/>
                    <Route path=path!("/costs") view={Lazy::<CostsRoute>::new()}/>
                    <Route path=path!("/agents") view={Lazy::<AgentsRoute>::new()}/>
                    <Route path=path!("/agents/:name") view={Lazy::<AgentRoute>::new()}/>
                    <Route path=path!("/history") view={Lazy::<HistoryRoute>::new()}/>
                    <Route path=path!("/mcp") view={Lazy::<McpRoute>::new()}/>
                    <Route path=path!("/connect") view={Lazy::<ConnectRoute>::new()}/>
                    <Route path=path!("/sessions") view={Lazy::<SessionsRoute>::new()}/>
                </FlatRoutes>
                <Toasts/>
            </div>
        </Router>
    }
}

/// `/` and `/tasks/{id}`: the board, the costs in short, and the problems (the task's detail is
/// the route's view, after them); nothing at any other address.
#[component]
fn BoardPage() -> impl IntoView {
    let dashboard = use_dashboard();
    let base = dashboard.settings.with_value(|s| s.base.clone());
    let location = leptos_router::hooks::use_location();
    let shown = Memo::new(move |_| {
        location.pathname.with(|path| {
            let under = path.strip_prefix(base.as_str()).unwrap_or(path);
            matches!(under, "" | "/") || crate::navigation::task_in_path(path, &base).is_some()
        })
    });
    view! {
        <Show when=move || shown.get()>
            <main class="layout">
                <Board/>
                <aside class="sidebar">
                    <CostSummary/>
                    <ProblemsPanel/>
                </aside>
            </main>
        </Show>
    }
    .into_any()
}

/// Any other address: the header stays, the page says so and leads back to the board.
#[component]
fn NotFoundPage() -> impl IntoView {
    view! {
        <main class="page not-found" aria-labelledby="page-title">
            <h2 id="page-title">"Page not found"</h2>
            <p>
                "There is no page at this address. "
                <leptos_router::components::A href="/">"Back to the board"</leptos_router::components::A>
            </p>
        </main>
    }
    .into_any()
}

/// The address is the router's: the task it names (`/tasks/{id}`) is the one whose detail is
/// open, through the back and forward buttons too; opening, closing and the filter navigate
/// (`crate::navigation`).
#[component]
fn FollowAddress() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    crate::navigation::follow_address(use_dashboard());
}

/// Keeps `document.title` naming the page shown as the address changes without a reload (the
/// server names it in the HTML it renders).
#[component]
fn DocumentTitle() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let dashboard = use_dashboard();
        let location = leptos_router::hooks::use_location();
        let base = dashboard.settings.with_value(|s| s.base.clone());
        Effect::new(move |_| {
            let path = location.pathname.get();
            let path = path.strip_prefix(base.as_str()).unwrap_or(&path).to_owned();
            let task = dashboard.task_title.get();
            document().set_title(&page_title(&path, task.as_deref()));
        });
    }
}

/// The pages (and the task's detail over the board) whose code is loaded on first use, as a WASM
/// module of their own (`cargo leptos build --split`), one line each: its [`LazyPage`], the
/// route its `Route`'s view is `Lazy::<…>` of, the page's component, and the module's name as
/// `#[lazy_route]` writes it (`__task_route_view_…`). A page's data is its own `Resource`s, made
/// by the page, so their types' code goes with it.
macro_rules! lazy_pages {
    ($($page:ident: $route:ident => $component:ident, $module:literal;)*) => {
        $(
            struct $route;

            #[lazy_route]
            impl LazyRoute for $route {
                fn data() -> Self {
                    $route
                }

                fn view(_route: Self) -> AnyView {
                    view! { <$component/> }.into_any()
                }
            }
        )*

        /// A lazily loaded page: what the address names ([`LazyPage::at`]), as the server has
        /// the page preload its module and the browser loads it before hydrating. Follows the
        /// routes of [`App`] (a unit test of the server checks every route but the board's is
        /// one; a Playwright test loads each page at its address and sees its module preloaded,
        /// fetched once, and the page live).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum LazyPage {
            $($page,)*
        }

        impl LazyPage {
            /// Its module's name as `#[lazy_route]` writes it (`__task_route_view_…`).
            pub fn module(self) -> &'static str {
                match self {
                    $(LazyPage::$page => $module,)*
                }
            }

            /// Loads its module (and the chunks it shares): the page hydrates once it is loaded,
            /// synchronously, with the route's view at hand (`client::hydrate_dashboard`).
            #[cfg(feature = "hydrate")]
            pub(crate) async fn load(self) {
                match self {
                    $(LazyPage::$page => <$route as LazyRoute>::preload().await,)*
                }
            }
        }
    };
}

lazy_pages! {
    Task: TaskRoute => TaskDetail, "task_route";
    Initiatives: InitiativesRoute => InitiativesPage, "initiatives_route";
    Costs: CostsRoute => CostsPage, "costs_route";
    Agents: AgentsRoute => AgentsPage, "agents_route";
    Agent: AgentRoute => AgentDetailPage, "agent_route";
    History: HistoryRoute => HistoryPage, "history_route";
    Mcp: McpRoute => McpPage, "mcp_route";
    Connect: ConnectRoute => ConnectPage, "connect_route";
    Sessions: SessionsRoute => SessionsPage, "sessions_route";
}

impl LazyPage {
    /// The lazily loaded page at `path` (under the base), if it is one.
    pub fn at(path: &str) -> Option<LazyPage> {
        let mut parts = path.trim_matches('/').split('/');
        Some(match (parts.next()?, parts.next(), parts.next()) {
            ("tasks", Some(_), None) => LazyPage::Task,
            ("initiatives", None, _) => LazyPage::Initiatives,
            ("costs", None, _) => LazyPage::Costs,
            ("agents", None, _) => LazyPage::Agents,
            ("agents", Some(_), None) => LazyPage::Agent,
            ("history", None, _) => LazyPage::History,
            ("mcp", None, _) => LazyPage::Mcp,
            ("connect", None, _) => LazyPage::Connect,
            ("sessions", None, _) => LazyPage::Sessions,
            _ => return None,
        })
    }
}

/// The title of the page at `path` (under the base), `task` the title of the task it shows.
pub fn page_title(path: &str, task: Option<&str>) -> String {
    let path = path.trim_end_matches('/');
    let page = match path.split('/').nth(1).unwrap_or("") {
        "" => "Execution Dashboard".to_owned(),
        "tasks" => task.map_or_else(|| "Task".to_owned(), str::to_owned),
        "initiatives" => "Initiatives".to_owned(),
        "costs" => "Costs".to_owned(),
        "agents" => match path.split('/').nth(2) {
            Some(name) => format!("{name} · Agents"),
            None => "Agents".to_owned(),
        },
        "history" => "History".to_owned(),
        "mcp" => "MCP servers".to_owned(),
        "connect" => "Connect your agents".to_owned(),
        _ => "Page not found".to_owned(),
    };
    format!("{page} · execdash")
}

/// Messages that come and go (an edit the server refused, …), read out by screen readers. The
/// region is there from the start (empty on the server); the list's code is a module of its
/// own ([`toast_list`]), loaded with the first message.
#[component]
fn Toasts() -> impl IntoView {
    let dashboard = use_dashboard();
    // Once a message came, the list stays (empty or not): it is drawn once, then follows.
    let started = Memo::new(move |before: Option<&bool>| {
        before.copied().unwrap_or(false) || dashboard.toasts.with(|t| !t.is_empty())
    });
    view! {
        <div class="toasts" role="alert" aria-live="assertive">
            {move || started.get().then(|| Suspend::new(toast_list(dashboard)))}
        </div>
    }
}

/// The messages shown, each with its close button.
#[lazy]
fn toast_list(dashboard: Dashboard) -> AnyView {
    view! {
        <For each=move || dashboard.toasts.get() key=|t| t.id let:toast>
            <div class="toast">
                <span>{toast.message.clone()}</span>
                <button
                    class="toast-close"
                    aria-label="Dismiss"
                    on:click=move |_| dashboard.toasts.update(|t| t.retain(|x| x.id != toast.id))
                >
                    "×"
                </button>
            </div>
        </For>
    }
    .into_any()
}

pub(crate) fn use_dashboard() -> Dashboard {
    expect_context::<Dashboard>()
}

/// What a page's data follows besides its path: it is fetched again when that moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follows {
    /// Every change on the board (its `seq`).
    Board,
    /// Every new cost summary (`cost.update`).
    Costs,
    /// Both.
    BoardAndCosts,
}

/// The data of this page at `path` (under the base, with its query; tracked), fetched again
/// whenever what it `follows` moves.
pub(crate) fn page_data<T>(
    follows: Follows,
    path: impl Fn() -> String + Send + Sync + 'static,
) -> PageData<T> {
    let board = use_dashboard().board;
    crate::api::page_data(std::sync::Arc::new(move || {
        let moved = board.with(|b| match follows {
            Follows::Board => (b.seq, None),
            Follows::Costs => (0, b.costs_version()),
            Follows::BoardAndCosts => (b.seq, b.costs_version()),
        });
        (path(), moved)
    }))
}

/// A page's data as the page shows it: `loading` until the first answer, the reason (after
/// `unavailable`) when there is none, else `show` of it, kept on screen while a newer answer is
/// fetched. Rendered by the server with the answer; hydrated without fetching it again.
pub(crate) fn fetched<T, V>(
    data: PageData<T>,
    loading: &'static str,
    unavailable: &'static str,
    show: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: crate::api::Readable + 'static,
    V: IntoView + 'static,
{
    let answer: ViewOnAnswer = std::sync::Arc::new(move || {
        let show = show.clone();
        Box::pin(async move {
            match data.answer().await {
                Ok(value) => show(value).into_any(),
                Err(reason) => view! {
                    <p class="detail-error" role="alert">{format!("{unavailable}{reason}")}</p>
                }
                .into_any(),
            }
        })
    });
    answer_view(loading, answer)
}

/// A chart the server drew (`GET /api/charts/…`): `name` of `charts` (kept on screen while it is
/// drawn again), or `empty` when there was nothing to draw.
pub(crate) fn server_chart(
    charts: PageData<Charts>,
    name: &'static str,
    empty: &'static str,
) -> impl IntoView {
    fetched(
        charts,
        "Drawing the chart…",
        "The chart is unavailable: ",
        move |charts: Charts| match charts.get(name) {
            Some(svg) => view! { <div class="chart" inner_html=svg></div> }.into_any(),
            None => view! { <p class="empty">{empty}</p> }.into_any(),
        },
    )
}

/// The view of a page's answer, once it comes (a type of its own per page would make the whole
/// `Transition` one more time per page in the WASM).
type ViewOnAnswer = std::sync::Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = AnyView> + Send>> + Send + Sync,
>;

fn answer_view(loading: &'static str, answer: ViewOnAnswer) -> AnyView {
    view! {
        <Transition fallback=move || view! { <p class="loading">{loading}</p> }>
            {move || Suspend::new(answer())}
        </Transition>
    }
    .into_any()
}
