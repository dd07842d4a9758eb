using PowerService.Grains.Hosting;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;

namespace PowerService.Grains.Sla;

/// <summary>Promised service times (configuration section <c>Workflow:Sla</c>); defaults are DESIGN.md §5 and the
/// assumptions listed in docs/workflow.md.</summary>
public sealed class SlaOptions
{
    private const string Section = "Sla";

    /// <summary>Offset of the utility's local time (China: +08:00), used by the working-day calendar.</summary>
    public TimeSpan LocalUtcOffset { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Share of a limit at which a warning fires.</summary>
    public double WarnAtShare { get; set; } = 0.8;

    /// <summary>Share of a limit at which a clock still running after its breach escalates a second time, to the
    /// region supervisor (the breach itself escalates to the grid manager).</summary>
    public double SecondEscalationAtShare { get; set; } = 1.5;

    /// <summary>Public holidays (local dates) on which working-day clocks do not run, even on a weekday.</summary>
    public IList<DateOnly> Holidays { get; } = [];

    /// <summary>Make-up working days (调休): weekend dates on which working-day clocks run.</summary>
    public IList<DateOnly> MakeUpWorkingDays { get; } = [];

    /// <summary>The limits, one row per clock, kind and (where it matters) area class or connection category.
    /// Configured rules are bound after the defaults; see <see cref="ReplaceOverriddenRules"/>.</summary>
    public IList<SlaRule> Rules { get; } = SlaPolicy.DefaultRules();

    /// <summary>Refuses settings that would start the silo with broken promises, naming the setting: a warning after the
    /// breach (<see cref="WarnAtShare"/> 1.5), a second escalation before the first, a limit of zero or less (a clock
    /// breached as it starts).</summary>
    internal void Validate()
    {
        WorkflowSettings.Require(Section, WorkflowSettings.IsUtcOffset(LocalUtcOffset), nameof(LocalUtcOffset), "must be whole minutes between -14:00:00 and 14:00:00");
        WorkflowSettings.Require(Section, WarnAtShare is > 0 and < 1, nameof(WarnAtShare), "must be a share in (0, 1): the warning comes before the breach");
        WorkflowSettings.Require(Section, SecondEscalationAtShare > 1, nameof(SecondEscalationAtShare), "must be more than 1: the second escalation comes after the breach");
        foreach (var rule in Rules)
        {
            var which = $"the {rule.Clock} rule of {rule.Kind}{(rule.Area is { } area ? $" ({area})" : "")}{(rule.Category is { } category ? $" ({category})" : "")}";
            WorkflowSettings.Require(Section, !string.IsNullOrWhiteSpace(rule.Clock), nameof(Rules), $"{which}: Clock must name the clock (Arrival, Handling…)");
            WorkflowSettings.Require(Section, rule.Limit > TimeSpan.Zero, nameof(Rules), $"{which}: Limit must be positive, not {rule.Limit:c}");
            WorkflowSettings.Require(Section, rule.StartsAt != rule.StopsAt, nameof(Rules), $"{which}: StartsAt and StopsAt must differ");
        }
    }

    /// <summary>A rule for the clock, kind, area class and category of an earlier one replaces it: configuration binds
    /// its rules after the defaults, and a region that promises urban arrival in 30 minutes means that instead of 45,
    /// not a second arrival clock beside it.</summary>
    /// <remarks>Two configured rules for one key are refused, naming both: the later one silently applied, and the
    /// promise an operator read in the first was not the one kept.</remarks>
    public void ReplaceOverriddenRules()
    {
        var defaults = SlaPolicy.DefaultRules().Count;
        var configured = Rules.Skip(defaults).Select((rule, index) => (rule, index)).ToList();
        foreach (var twice in configured.GroupBy(c => Key(c.rule)).Where(g => g.Count() > 1))
        {
            var (first, second) = (twice.First(), twice.Skip(1).First());
            WorkflowSettings.Require(Section, false, $"{nameof(Rules)}:{first.index}",
                $"and Workflow:{Section}:{nameof(Rules)}:{second.index} are both the {first.rule.Clock} rule of {first.rule.Kind}"
                + $"{(first.rule.Area is { } area ? $" ({area})" : "")}{(first.rule.Category is { } category ? $" ({category})" : "")}: keep one");
        }
        // Grouping keeps each key where it first stood; the last rule of a key is the configured one.
        var kept = Rules.GroupBy(Key).Select(g => g.Last()).ToList();
        Rules.Clear();
        foreach (var rule in kept)
        {
            Rules.Add(rule);
        }
    }

    private static (string Clock, WorkOrderKind Kind, AreaClass? Area, ConnectionCategory? Category) Key(SlaRule rule) => (rule.Clock, rule.Kind, rule.Area, rule.Category);
}

/// <summary>How a clock's time runs: all the time, or only on working days of the <see cref="WorkingCalendar"/>.</summary>
public enum SlaBasis
{
    Elapsed,
    WorkingTime,
}

/// <summary>Moments in an order's life that start and stop clocks.</summary>
public enum SlaMilestone
{
    /// <summary>The order was received (created), or reopened after a dissatisfied callback.</summary>
    Receipt,
    /// <summary>The crew accepted the order: for complaints, the handler has taken it and contacts the customer.</summary>
    Accept,
    Arrival,
    Resolution,
    /// <summary>The first callback attempt, whatever its outcome.</summary>
    CallbackMade,
}

/// <summary>One promised limit: clock <paramref name="Clock"/> of orders of <paramref name="Kind"/> (in
/// <paramref name="Area"/> or of <paramref name="Category"/> when given) runs from <paramref name="StartsAt"/> to
/// <paramref name="StopsAt"/> and must stop within <paramref name="Limit"/> (working time: 1 day = one working day).</summary>
public sealed record SlaRule(
    string Clock,
    WorkOrderKind Kind,
    SlaMilestone StartsAt,
    SlaMilestone StopsAt,
    TimeSpan Limit,
    SlaBasis Basis,
    AreaClass? Area = null,
    ConnectionCategory? Category = null);
