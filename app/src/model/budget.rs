//! Spending limits and how close the costs are to them.

use serde::{Deserialize, Serialize};

use super::lean::FromJson;

use super::CostTotals;

/// Daily and monthly limits in USD (from the server's configuration); `None`: no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, FromJson)]
pub struct Budgets {
    pub daily_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, FromJson)]
#[serde(rename_all = "lowercase")]
pub enum BudgetPeriod {
    Daily,
    Monthly,
}

/// A budget reached 100 %: the `budget.alert` event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, FromJson)]
pub struct BudgetAlert {
    pub period: BudgetPeriod,
    pub limit_usd: f64,
    pub spent_usd: f64,
}

/// How much of one budget is used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BudgetUse {
    pub period: BudgetPeriod,
    pub limit_usd: f64,
    pub spent_usd: f64,
}

impl BudgetUse {
    pub fn ratio(&self) -> f64 {
        if self.limit_usd > 0.0 {
            self.spent_usd / self.limit_usd
        } else {
            0.0
        }
    }

    /// At 80 % a banner warns; at 100 % it alerts.
    pub fn is_warning(&self) -> bool {
        self.ratio() >= 0.8
    }

    pub fn is_exceeded(&self) -> bool {
        self.ratio() >= 1.0
    }
}

impl Budgets {
    /// Use of each configured budget for these totals.
    pub fn usage(&self, totals: &CostTotals) -> Vec<BudgetUse> {
        let mut uses = Vec::new();
        if let Some(limit) = self.daily_usd {
            uses.push(BudgetUse {
                period: BudgetPeriod::Daily,
                limit_usd: limit,
                spent_usd: totals.today,
            });
        }
        if let Some(limit) = self.monthly_usd {
            uses.push(BudgetUse {
                period: BudgetPeriod::Monthly,
                limit_usd: limit,
                spent_usd: totals.month,
            });
        }
        uses
    }

    /// Budgets that `after` exceeds and `before` did not.
    pub fn newly_exceeded(
        &self,
        before: Option<&CostTotals>,
        after: &CostTotals,
    ) -> Vec<BudgetAlert> {
        let was_exceeded = |period: BudgetPeriod| {
            before.is_some_and(|b| {
                self.usage(b)
                    .iter()
                    .any(|u| u.period == period && u.is_exceeded())
            })
        };
        self.usage(after)
            .into_iter()
            .filter(|u| u.is_exceeded() && !was_exceeded(u.period))
            .map(|u| BudgetAlert {
                period: u.period,
                limit_usd: u.limit_usd,
                spent_usd: u.spent_usd,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_at_80_and_alerts_once_at_100() {
        let budgets = Budgets {
            daily_usd: Some(10.0),
            monthly_usd: Some(100.0),
        };
        let totals = |today, month| CostTotals {
            today,
            month,
            total: month,
            invocations: 1,
        };
        let uses = budgets.usage(&totals(8.0, 50.0));
        assert!(uses[0].is_warning() && !uses[0].is_exceeded());
        assert!(!uses[1].is_warning());
        let alerts = budgets.newly_exceeded(Some(&totals(8.0, 50.0)), &totals(10.5, 52.5));
        assert_eq!(
            alerts,
            vec![BudgetAlert {
                period: BudgetPeriod::Daily,
                limit_usd: 10.0,
                spent_usd: 10.5
            }]
        );
        assert!(budgets
            .newly_exceeded(Some(&totals(10.5, 52.5)), &totals(11.0, 53.0))
            .is_empty());
    }
}
