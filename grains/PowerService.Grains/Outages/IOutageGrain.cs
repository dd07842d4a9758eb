using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Grains.Outages;

public enum OutageState
{
    /// <summary>Inferred from meters; a repair crew is already being dispatched (主动抢修).</summary>
    Suspected,

    /// <summary>Confirmed by more meters, a customer call, a crew or a dispatcher; customers are told.</summary>
    Confirmed,

    /// <summary>The linked repair order was accepted by a crew.</summary>
    CrewAssigned,

    Restored,
}

public enum OutageKind
{
    Unplanned,

    /// <summary>Scheduled work (计划停电), opened when the planned outage starts.</summary>
    Planned,
}

public enum OutageScope
{
    TransformerArea,
    Feeder,

    /// <summary>Some meters of one area, still dark after their area came back (a nested outage).</summary>
    Meters,
}

/// <summary>One outage (key: outage id) as a dispatcher, the map and an affected customer see it.</summary>
public sealed record OutageView(
    string Id,
    OutageKind Kind,
    OutageScope Scope,
    OutageState State,
    string Region,
    string? FeederId,
    IReadOnlyList<string> TransformerAreaIds,
    IReadOnlyList<string>? MeterIds,
    int AffectedCustomers,
    IReadOnlyList<KeyCustomer> ImportantCustomers,
    GeoPoint Location,
    DateTimeOffset StartedAt,
    DateTimeOffset? EstimatedRestorationAt,
    string? Cause,
    string? RepairOrderId,
    string? CrewId,
    string? ParentOutageId,
    int MergedCalls,
    DateTimeOffset? RestoredAt,
    DateTimeOffset UpdatedAt,
    int Version,
    // Of AffectedCustomers, those already in another outage of the area when this one opened (a nested or partial one):
    // not interrupted again, so the indicators count AffectedCustomers less these (an auditor could not add them up).
    int CustomersAlreadyOut = 0);

/// <summary>One finished outage of a transformer area, journaled on the area's stream (<see cref="JournalStreams.Area"/>,
/// event type <see cref="EventType"/>) when the outage ends: the history that planned outages read to count customers
/// cut repeatedly. <paramref name="MeterIds"/> null means the whole area was out.</summary>
public sealed record AreaOutageRecord(
    string OutageId,
    OutageKind Kind,
    DateTimeOffset StartedAt,
    DateTimeOffset EndedAt,
    IReadOnlyList<string>? MeterIds)
{
    public const string EventType = "OutageEnded";
}

/// <summary>One outage (key: outage id): who is out, since when, until when (ETR), why, and the repair that fixes it.
/// Opened by the transformer area or feeder that inferred it (or by a planned outage); moved on by dispatchers, crews,
/// meters and the linked repair order. Every change is journaled on <see cref="JournalStreams.Outage"/>.</summary>
public interface IOutageGrain : IGrain
{
    /// <summary>The outage, or null when it was never opened.</summary>
    Task<OutageView?> Get();

    /// <summary>Who did what to the outage and when (opened, confirmed, ETR set, restored…), oldest first: an auditor
    /// signing the reliability report could not see who restored an outage or changed its estimate.</summary>
    Task<IReadOnlyList<JournalEntry>> GetHistory();

    /// <summary>Opens the outage; opening it again returns it unchanged (the opener may retry after a crash).</summary>
    Task<OutageView> Open(OutageOpening opening);

    /// <summary>A dispatcher, crew or evidence (meters, a customer call) confirms it; customers are told.</summary>
    Task<OutageView> Confirm(string actor, string? cause = null);

    /// <summary>Its area's meters confirm it (most of them are dark now). One-way: the area's meter events are not held
    /// up by the outage's write; the area sends it again on activation if its own record still owes it.</summary>
    [OneWay]
    Task ConfirmedByMeters();

    /// <summary>Sets the estimated restoration time (and optionally the cause); told customers hear of the change.</summary>
    Task<OutageView> SetEstimatedRestoration(DateTimeOffset estimatedRestorationAt, string actor, string? cause = null);

    /// <summary>Supply is back (meters, the crew, a dispatcher). Meters of the outage still dark after a grace period
    /// become a nested outage.</summary>
    Task<OutageView> Restore(string actor);

    /// <summary>Supply came back at <paramref name="restoredAt"/>: the meters' own time, or a planned outage's recorded
    /// end, rather than the moment this is told (a head-end delivers late, a close-out is recorded afterwards), so the
    /// outage's minutes in the indicators are the customers' real ones. A time before the outage's start counts as its
    /// start, one still ahead as now.</summary>
    Task<OutageView> RestoreAsOf(string actor, DateTimeOffset restoredAt);

    /// <summary>The area's meters ended this outage at <paramref name="restoredAt"/>, with <paramref name="metersStillDark"/>
    /// still reporting no power: their customers are not told "power restored" with the rest. After the grace period
    /// <see cref="NestedChecked"/> says which of them came back (they are told then); the others are a nested outage.</summary>
    Task<OutageView> RestoredByMeters(string transformerAreaId, DateTimeOffset restoredAt, IReadOnlyList<string> metersStillDark);

    /// <summary>The area's answer to a restoration by a crew, a dispatcher or a close-out (<see
    /// cref="IAreaPowerGrain.OutageEnded"/>): <paramref name="metersStillDark"/> still report no power. The area's
    /// customers are told "power restored" now, but those; the grace period's check goes on as after
    /// <see cref="RestoredByMeters"/>. One-way, as the area's answer to a one-way call.</summary>
    [OneWay]
    Task DarkAtRestoration(string transformerAreaId, IReadOnlyList<string> metersStillDark);

    /// <summary>The area's nested-outage check ran: of the area's meters dark at the restoration,
    /// <paramref name="metersStillDark"/> still are (a nested outage tells their customers); the rest came back in the
    /// grace period and are told now. One-way, from the area's reminder tick.</summary>
    [OneWay]
    Task NestedChecked(string transformerAreaId, IReadOnlyList<string> metersStillDark);

    /// <summary>A customer's fault call was merged into this outage instead of creating another repair order. One-way:
    /// the merged order is stored; this count may arrive before the outage's opening has (the area knows its outage
    /// id as soon as it infers it) and is then kept for it.</summary>
    [OneWay]
    Task CallMerged(string orderId);

    /// <summary>A call stored as merged into this outage at <paramref name="mergedAt"/>, told again by its order's
    /// recovery after a crash (its <see cref="CallMerged"/> may have died with the silo): it confirms a suspected outage
    /// as the call did, and is counted unless the stored count holds it (the outage keeps its recent calls for that).</summary>
    [OneWay]
    Task MergedCallRecovered(string orderId, DateTimeOffset mergedAt);

    /// <summary>The linked repair order moved (accepted, travelling, resolved…). One-way: the order tells it after its
    /// stored change, while the outage may itself be waiting on the order (restoring, it withdraws a repair not yet
    /// started).</summary>
    [OneWay]
    Task RepairChanged(string orderId, WorkOrders.WorkOrderState orderState, string? crewId);

    /// <summary>A feeder outage now contains this one: its repair order folds into the feeder's.</summary>
    Task JoinFeederOutage(string feederOutageId, string? feederRepairOrderId);

    /// <summary>A feeder outage gained an area (its child outage).</summary>
    Task ChildOpened(string childOutageId, string transformerAreaId);

    /// <summary>Tells the outage board (the outage list and map) this outage's stored state again, after doing what
    /// the stored record still owes (as every activation does). The board is written behind, so a crash can lose its
    /// last second; the silo's recovery calls this for every outage the journal changed since the board was last known
    /// stored (<see cref="Recovery.ViewRecovery"/>).</summary>
    Task Reannounce();
}

/// <summary>What opens an outage: its kind and scope, the areas (and meters, for a nested outage) out, when it
/// started, and the confirmation already known (a feeder roll-up or a planned outage is confirmed from the start).
/// <paramref name="EarlierCalls"/> are the fault calls of its customers made shortly before it was inferred: the outage
/// folds those not yet being worked on into itself. <paramref name="CustomersAlreadyOut"/>: of its customers, those in
/// another outage of the area at its opening (a partial outage's street), whose interruption began with that one and is
/// not counted again in the indicators.</summary>
public sealed record OutageOpening(
    OutageKind Kind,
    OutageScope Scope,
    string Actor,
    DateTimeOffset StartedAt,
    IReadOnlyList<string> TransformerAreaIds,
    string? FeederId = null,
    IReadOnlyList<string>? MeterIds = null,
    bool Confirmed = false,
    string? Cause = null,
    DateTimeOffset? EstimatedRestorationAt = null,
    string? ParentOutageId = null,
    string? RepairOrderId = null,
    IReadOnlyList<string>? EarlierCalls = null,
    int CustomersAlreadyOut = 0);
