using PowerService.Grains.Crews;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;

namespace PowerService.Grains.Dispatch;

/// <summary>Dispatch (派单) for one region (key: region id). Keeps a live roster of the region's crews from what they
/// report and decides which crew gets an order: on shift, with the skill for the kind, scored by travel time from the
/// last known location, load and SLA slack. In storm mode (large backlog) it assigns the backlog in batches that
/// minimise total travel plus SLA risk.
/// It never calls a work order or crew while they may be calling it: orders ask it for a decision, crews report to it.</summary>
public interface IDispatchGrain : IGrain
{
    /// <summary>A crew's latest facts; interleaves so a crew can report while a decision is being made.</summary>
    [AlwaysInterleave]
    Task UpdateCrew(CrewSnapshot crew);

    /// <summary>Chooses a crew for the order now, or queues it (storm mode, or nobody eligible right now) and returns
    /// null; a queued order is assigned later through <see cref="IWorkOrderGrain.Assign"/>.</summary>
    Task<DispatchDecision?> RequestCrew(DispatchRequest request);

    /// <summary>The order no longer needs a crew from dispatch (assigned elsewhere, cancelled, merged).</summary>
    [AlwaysInterleave]
    Task Withdraw(string orderId);

    Task<DispatchStatus> GetStatus();
}

/// <summary>What dispatch needs to know about an order. <paramref name="ExcludedCrews"/> are crews that already
/// rejected or let the offer expire.</summary>
public sealed record DispatchRequest(
    string OrderId,
    WorkOrderKind Kind,
    WorkOrderPriority Priority,
    GeoPoint Location,
    DateTimeOffset ArrivalDueAt,
    IReadOnlyList<string> ExcludedCrews);

public sealed record DispatchDecision(string OrderId, string CrewId, double TravelMinutes, double Score);

public sealed record CrewSnapshot(
    string CrewId,
    IReadOnlyList<CrewSkill> Skills,
    IReadOnlyList<Shift> Shifts,
    CrewStatus Status,
    GeoPoint Location,
    int Capacity,
    int Load);

public sealed record DispatchStatus(string Region, int Crews, int Backlog, bool StormMode, long Decisions);
