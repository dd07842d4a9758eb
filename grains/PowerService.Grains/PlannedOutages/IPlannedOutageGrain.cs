using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Grains.PlannedOutages;

/// <summary>One planned or temporary outage (计划停电 / 临时停电, key: planned outage id), computed before it is scheduled
/// (先算后停) and closed out against the actual times. A refused plan or a dry run stores nothing; every change is
/// journaled on <see cref="JournalStreams.PlannedOutage"/>. An illegal move throws <see cref="DomainConflictException"/>.</summary>
public interface IPlannedOutageGrain : IGrain
{
    /// <summary>Computes the impact and checks the policy; unless <paramref name="dryRun"/> or refused, schedules the
    /// outage and notifies the affected customers. Throws <see cref="InvalidFieldException"/> for bad fields and
    /// <see cref="DomainConflictException"/> when this id is already planned.</summary>
    Task<PlannedOutagePlan> Plan(PlannedOutageRequest request, bool dryRun);

    /// <summary>The planned outage, or null when none was accepted under this id.</summary>
    Task<PlannedOutageView?> Get();

    /// <summary>Who did what to the plan and when (planned, told, started, closed out, cancelled), oldest first.</summary>
    Task<IReadOnlyList<JournalEntry>> GetHistory();

    /// <summary>Records when the work actually cut supply, and opens the outage on the map (kind Planned).</summary>
    Task<PlannedOutageView> Start(DateTimeOffset actualStart, string actor);

    /// <summary>A transformer area's meters went dark at <paramref name="darkSince"/> in this plan's window: the work
    /// started then (the switch opened before the dispatcher recorded it), if the plan may start so; otherwise nothing
    /// happens and the area opens an unplanned outage after a minute. One-way, from the area's turn.</summary>
    [OneWay]
    Task StartedByMeters(DateTimeOffset darkSince);

    /// <summary>Records when supply came back: closes the outage out against the plan and adds it to the outage history
    /// of every affected transformer area; the outage on the map is restored.</summary>
    Task<PlannedOutageView> Complete(DateTimeOffset actualEnd, string actor);

    /// <summary>Calls off a scheduled outage that has not started; the customers who were told are told again.</summary>
    Task<PlannedOutageView> Cancel(string actor, string reason);

    /// <summary>The topology changed (a meters or customers import): a scheduled plan that has told its customers tells
    /// the customers now on its areas who were not told (moved onto them since), the same notice, and returns how many
    /// were told now, and whether that is later than its notice period (7 days, 24 h) before its start. None for a plan
    /// not scheduled, or whose notices are still on their way.</summary>
    Task<NewlyTold> TellCustomersNewToItsAreas();

    /// <summary>Tells the calendar this plan's stored state again (and, as every activation does, settles what the
    /// record owes: notices, opening or restoring its outage). The calendar is written behind; the silo's recovery calls
    /// this for every plan the journal changed since the calendar was last known stored (<see cref="Recovery.ViewRecovery"/>).</summary>
    Task Reannounce();
}

public enum PlannedOutageKind
{
    /// <summary>Scheduled maintenance or construction (计划停电): noticed 7 days ahead.</summary>
    Planned,

    /// <summary>Work that cannot wait for the planned cycle (临时停电): noticed 24 hours ahead.</summary>
    Temporary,
}

public enum PlannedOutageStatus
{
    Scheduled,
    InProgress,
    Completed,
    Cancelled,
}

/// <summary>What a dispatcher asks for: either a whole feeder (<paramref name="FeederId"/>) or some of its transformer
/// areas (<paramref name="TransformerAreaIds"/>), never both. <paramref name="OverrideReason"/>, when given, is the
/// dispatcher's explicit, journaled decision to go ahead although the repeated-outage or important-customer rule
/// refuses; the notice lead time cannot be overridden.</summary>
public sealed record PlannedOutageRequest(
    PlannedOutageKind Kind,
    string? FeederId,
    IReadOnlyList<string>? TransformerAreaIds,
    DateTimeOffset PlannedStart,
    DateTimeOffset PlannedEnd,
    string Reason,
    string Actor,
    string? OverrideReason = null,
    string? RequestId = null);

/// <summary>The answer to a plan: the impact, what the policy found, and the scheduled outage when it was accepted
/// (null on a dry run and on a refusal).</summary>
public sealed record PlannedOutagePlan(
    bool DryRun,
    bool Acceptable,
    PlannedOutageImpact Impact,
    IReadOnlyList<PolicyFinding> Refusals,
    IReadOnlyList<PolicyFinding> Warnings,
    PlannedOutageView? Outage);

public enum PolicyRule
{
    /// <summary>The customers must be told 7 days (planned) or 24 hours (temporary) before the start.</summary>
    NoticeLeadTime,

    /// <summary>Customers already cut the configured number of times within the window (频繁停电).</summary>
    RepeatedOutage,

    /// <summary>Important or critical customers (hospitals, water works) lose supply.</summary>
    ImportantCustomers,

    /// <summary>Another plan already cuts some of the same areas over this window: its customers lose supply once, and
    /// are told of both plans. A warning: the same work planned twice, or two jobs done under one interruption.</summary>
    OverlappingPlan,
}

/// <summary>One policy rule that refused or warned, in words a dispatcher can act on.</summary>
public sealed record PolicyFinding(PolicyRule Rule, string Message);

/// <summary>Who loses supply. <paramref name="RepeatedOutageCustomers"/> lists at most
/// <see cref="PlannedOutageOptions.MaxListedCustomers"/> of the <paramref name="RepeatedOutageCustomerCount"/> customers
/// already cut <paramref name="RepeatedOutageThreshold"/> times or more since <paramref name="HistorySince"/>.
/// <paramref name="OverlappingPlanIds"/>: plans already scheduled on these areas over this one's window (the same
/// customers' one interruption, planned twice?).</summary>
public sealed record PlannedOutageImpact(
    IReadOnlyList<string> TransformerAreaIds,
    int AffectedCustomers,
    IReadOnlyList<KeyCustomer> ImportantCustomers,
    int CriticalCustomers,
    int RepeatedOutageThreshold,
    DateTimeOffset HistorySince,
    int RepeatedOutageCustomerCount,
    IReadOnlyList<RepeatedOutageCustomer> RepeatedOutageCustomers,
    DateTimeOffset NoticeDeadline,
    IReadOnlyList<string>? OverlappingPlanIds = null);

/// <summary>A customer already cut <paramref name="Outages"/> times within the window (whole-area and own-meter
/// outages, finished or scheduled before this one).</summary>
public sealed record RepeatedOutageCustomer(string CustomerId, string MeterId, string TransformerAreaId, int Outages);

/// <summary>A scheduled planned outage as the dispatcher sees it. <paramref name="OutageId"/>: the outage it opened on
/// the map when it started (null before).</summary>
public sealed record PlannedOutageView(
    string Id,
    PlannedOutageKind Kind,
    PlannedOutageStatus Status,
    string? FeederId,
    IReadOnlyList<string> TransformerAreaIds,
    DateTimeOffset PlannedStart,
    DateTimeOffset PlannedEnd,
    string Reason,
    PlannedOutageImpact Impact,
    IReadOnlyList<PolicyFinding> Warnings,
    string? OverrideReason,
    string PlannedBy,
    DateTimeOffset AcceptedAt,
    DateTimeOffset? ActualStart,
    DateTimeOffset? ActualEnd,
    string? OutageId,
    PlannedOutageCloseOut? CloseOut,
    string? CancelReason,
    DateTimeOffset UpdatedAt,
    int Version);

/// <summary>The actual times against the plan: positive deviations are late, negative early.</summary>
public sealed record PlannedOutageCloseOut(
    double StartDeviationMinutes,
    double EndDeviationMinutes,
    double PlannedMinutes,
    double ActualMinutes,
    bool Overran);

/// <summary>How many customers a scheduled plan told now, and whether later than its notice period before its start.</summary>
public sealed record NewlyTold(int Customers, bool Late);
