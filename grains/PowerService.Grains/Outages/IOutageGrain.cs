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
    string? ParentOutageId,
    int MergedCalls,
    DateTimeOffset? RestoredAt,
    DateTimeOffset UpdatedAt,
    int Version);

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
