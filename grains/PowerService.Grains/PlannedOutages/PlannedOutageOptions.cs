using PowerService.Grains.Hosting;

namespace PowerService.Grains.PlannedOutages;

/// <summary>What a policy rule does when it finds something.</summary>
public enum PolicyAction
{
    Warn,
    Refuse,
}

/// <summary>Planned outage rules (configuration section <c>Workflow:PlannedOutages</c>); the defaults and why are in
/// docs/planned-outages.md.</summary>
public sealed class PlannedOutageOptions
{
    private const string Section = "PlannedOutages";

    /// <summary>Notice before a planned outage (State Grid commitment: 7 days).</summary>
    public TimeSpan PlannedNotice { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Notice before a temporary outage (State Grid commitment: 24 hours).</summary>
    public TimeSpan TemporaryNotice { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Longest outage one plan may announce: one notice promises one working window; longer works are
    /// planned as several outages, each noticed and counted.</summary>
    public TimeSpan MaxDuration { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long before its planned start a plan may be started. Its customers were told the planned start, so
    /// a switch opened earlier than this (a week early, or the wrong plan picked) is refused: cutting them on another
    /// day needs a plan of its own, noticed as every plan is. The margin is for the switching itself.</summary>
    public TimeSpan EarlyStart { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How far from now a plan's start may lie, either way: works are planned months ahead, not decades, and a
    /// start already long past is an unplanned outage to record, not a plan.</summary>
    public TimeSpan PlanningHorizon { get; set; } = TimeSpan.FromDays(366);

    /// <summary>A customer already cut this many times within <see cref="RepeatedOutageWindowMonths"/> would reach
    /// three with this plan, which the 95598 complaint classification treats as frequent outage (频繁停电).</summary>
    public int RepeatedOutageThreshold { get; set; } = 2;

    /// <summary>How far back from the planned start earlier outages count.</summary>
    public int RepeatedOutageWindowMonths { get; set; } = 2;

    public PolicyAction RepeatedOutageAction { get; set; } = PolicyAction.Refuse;

    /// <summary>Important and critical customers are warned about (they need backup supply arranged), not refused:
    /// most feeders supply a school or a base station, and refusing would stop all maintenance.</summary>
    public PolicyAction ImportantCustomerAction { get; set; } = PolicyAction.Warn;

    /// <summary>Most areas one plan may name (a large feeder supplies a few hundred).</summary>
    public int MaxTransformerAreas { get; set; } = 1_000;

    /// <summary>Most repeated-outage customers listed by id in an impact (the count is always complete).</summary>
    public int MaxListedCustomers { get; set; } = 200;

    /// <summary>A value outside its range stops the silo naming it: a threshold of -1 or a window of 0 months refused every
    /// plan ("cut -1 or more times within 0 months") without saying which setting was wrong.</summary>
    internal void Validate()
    {
        WorkflowSettings.Require(Section, PlannedNotice >= TimeSpan.Zero, nameof(PlannedNotice), "must not be negative");
        WorkflowSettings.Require(Section, TemporaryNotice >= TimeSpan.Zero, nameof(TemporaryNotice), "must not be negative");
        WorkflowSettings.Require(Section, MaxDuration > TimeSpan.Zero, nameof(MaxDuration), "must be positive");
        WorkflowSettings.Require(Section, EarlyStart >= TimeSpan.Zero, nameof(EarlyStart), "must not be negative");
        WorkflowSettings.Require(Section, PlanningHorizon > TimeSpan.Zero, nameof(PlanningHorizon), "must be positive");
        WorkflowSettings.Require(Section, RepeatedOutageThreshold >= 1, nameof(RepeatedOutageThreshold), "must be at least 1 (earlier cuts that make a customer's next one a repeated outage)");
        WorkflowSettings.Require(Section, RepeatedOutageWindowMonths >= 1, nameof(RepeatedOutageWindowMonths), "must be at least 1 (months back from the planned start)");
        WorkflowSettings.Require(Section, Enum.IsDefined(RepeatedOutageAction), nameof(RepeatedOutageAction), "must be Warn or Refuse");
        WorkflowSettings.Require(Section, Enum.IsDefined(ImportantCustomerAction), nameof(ImportantCustomerAction), "must be Warn or Refuse");
        WorkflowSettings.Require(Section, MaxTransformerAreas >= 1, nameof(MaxTransformerAreas), "must be at least 1");
        WorkflowSettings.Require(Section, MaxListedCustomers >= 0, nameof(MaxListedCustomers), "must not be negative");
    }
}
