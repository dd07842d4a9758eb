using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;

namespace PowerService.Grains.Sla;

/// <summary>Which clocks an order runs, from the rule table in <see cref="SlaOptions.Rules"/>, and the calendar they
/// run on. One per silo (registered by <c>AddWorkflow</c>).</summary>
internal sealed class SlaPolicy(SlaOptions options)
{
    public const string Arrival = "Arrival";
    public const string Restoration = "Restoration";
    public const string Handling = "Handling";
    public const string Contact = "Contact";
    public const string Reply = "Reply";
    public const string Callback = "Callback";

    public WorkingCalendar Calendar { get; } = new(options);

    public SlaOptions Options => options;

    /// <summary>DESIGN.md §5 (State Grid service commitments, 2023). Rows marked "assumption" have no figure there;
    /// docs/workflow.md lists them.</summary>
    public static List<SlaRule> DefaultRules() =>
    [
        // clock        kind                                starts at               stops at                     limit                        basis
        new(Arrival,     WorkOrderKind.FaultRepair,         SlaMilestone.Receipt,   SlaMilestone.Arrival,    TimeSpan.FromMinutes(45),  SlaBasis.Elapsed, Area: AreaClass.Urban),
        new(Arrival,     WorkOrderKind.FaultRepair,         SlaMilestone.Receipt,   SlaMilestone.Arrival,    TimeSpan.FromMinutes(90),  SlaBasis.Elapsed, Area: AreaClass.Rural),
        new(Arrival,     WorkOrderKind.FaultRepair,         SlaMilestone.Receipt,   SlaMilestone.Arrival,    TimeSpan.FromMinutes(120), SlaBasis.Elapsed, Area: AreaClass.Remote),
        new(Restoration, WorkOrderKind.FaultRepair,         SlaMilestone.Arrival,   SlaMilestone.Resolution, TimeSpan.FromHours(3),     SlaBasis.Elapsed, Area: AreaClass.Urban),
        new(Restoration, WorkOrderKind.FaultRepair,         SlaMilestone.Arrival,   SlaMilestone.Resolution, TimeSpan.FromHours(4),     SlaBasis.Elapsed, Area: AreaClass.Rural),
        // assumption: remote 6 h (DESIGN gives urban and rural only; longer lines and parts brought from further away)
        new(Restoration, WorkOrderKind.FaultRepair,         SlaMilestone.Arrival,   SlaMilestone.Resolution, TimeSpan.FromHours(6),     SlaBasis.Elapsed, Area: AreaClass.Remote),
        new(Handling,    WorkOrderKind.NewConnection,       SlaMilestone.Receipt,   SlaMilestone.Resolution, TimeSpan.FromDays(5),      SlaBasis.WorkingTime, Category: ConnectionCategory.Residential),
        new(Handling,    WorkOrderKind.NewConnection,       SlaMilestone.Receipt,   SlaMilestone.Resolution, TimeSpan.FromDays(6),      SlaBasis.WorkingTime, Category: ConnectionCategory.LowVoltageNonResidential),
        new(Handling,    WorkOrderKind.NewConnection,       SlaMilestone.Receipt,   SlaMilestone.Resolution, TimeSpan.FromDays(22),     SlaBasis.WorkingTime, Category: ConnectionCategory.HighVoltageSingleSupply),
        new(Handling,    WorkOrderKind.NewConnection,       SlaMilestone.Receipt,   SlaMilestone.Resolution, TimeSpan.FromDays(32),     SlaBasis.WorkingTime, Category: ConnectionCategory.HighVoltageDualSupply),
        new(Handling,    WorkOrderKind.MeterVerification,   SlaMilestone.Receipt,   SlaMilestone.Resolution, TimeSpan.FromDays(5),      SlaBasis.WorkingTime),
        new(Contact,     WorkOrderKind.Complaint,           SlaMilestone.Receipt,   SlaMilestone.Accept,     TimeSpan.FromDays(1),      SlaBasis.WorkingTime),
        new(Reply,       WorkOrderKind.Complaint,           SlaMilestone.Receipt,   SlaMilestone.Resolution, TimeSpan.FromDays(7),      SlaBasis.WorkingTime),
        // assumption: meter installation as a residential connection (5 working days)
        new(Handling,    WorkOrderKind.MeterInstallation,   SlaMilestone.Receipt,   SlaMilestone.Resolution, TimeSpan.FromDays(5),      SlaBasis.WorkingTime),
        // assumption: on-site survey within 3 working days
        new(Handling,    WorkOrderKind.OnSiteSurvey,        SlaMilestone.Receipt,   SlaMilestone.Resolution, TimeSpan.FromDays(3),      SlaBasis.WorkingTime),
        // reconnection within 24 h of the arrears being paid (the order is raised when the payment is known), round the clock
        new(Handling,    WorkOrderKind.Reconnection,        SlaMilestone.Receipt,   SlaMilestone.Resolution, TimeSpan.FromHours(24),    SlaBasis.Elapsed),
        // assumption: a consultation is answered within 1 working day
        new(Reply,       WorkOrderKind.Consultation,        SlaMilestone.Receipt,   SlaMilestone.Resolution, TimeSpan.FromDays(1),      SlaBasis.WorkingTime),
    ];

    /// <summary>The rules whose clocks start at <paramref name="milestone"/> for this order.</summary>
    public IEnumerable<SlaRule> StartingAt(SlaMilestone milestone, WorkOrderKind kind, AreaClass area, ConnectionCategory? category)
    {
        foreach (var rule in options.Rules)
        {
            if (rule.StartsAt == milestone && rule.Kind == kind
                && (rule.Area is null || rule.Area == area)
                && (rule.Category is null || rule.Category == category))
            {
                yield return rule;
            }
        }
    }

    /// <summary>Where the moment <paramref name="share"/> of <paramref name="limit"/> after <paramref name="start"/> falls.</summary>
    public DateTimeOffset MomentAt(SlaBasis basis, DateTimeOffset start, TimeSpan limit, double share) =>
        Add(basis, start, limit * share);

    public DateTimeOffset Add(SlaBasis basis, DateTimeOffset start, TimeSpan amount) =>
        basis == SlaBasis.Elapsed ? start + amount : Calendar.AddWorkingTime(start, amount);

    /// <summary>How much of the clock's time runs between two instants.</summary>
    public TimeSpan Between(SlaBasis basis, DateTimeOffset from, DateTimeOffset to) =>
        basis == SlaBasis.Elapsed ? to - from : Calendar.WorkingTimeBetween(from, to);
}
