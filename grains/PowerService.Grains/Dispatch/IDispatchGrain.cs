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

    /// <summary>The crew works in another region now: off this region's roster (it was kept there as an off-shift
    /// snapshot, and this region's consoles and <c>GET /api/crews</c> went on listing it as one of theirs).</summary>
    [AlwaysInterleave]
    Task RemoveCrew(string crewId);

    /// <summary>Chooses a crew for the order now, or queues it (storm mode, or nobody eligible right now) and returns
    /// null; a queued order is assigned later through <see cref="IWorkOrderGrain.Assign"/>. Interleaves: the decision
    /// is made without awaiting, so it may run while a backlog drain awaits the orders it assigns (which may themselves
    /// be waiting for a decision).</summary>
    [AlwaysInterleave]
    Task<DispatchDecision?> RequestCrew(DispatchRequest request);

    /// <summary>The order no longer needs a crew from dispatch (assigned elsewhere, cancelled, merged).</summary>
    [AlwaysInterleave]
    Task Withdraw(string orderId);

    [AlwaysInterleave]
    Task<DispatchStatus> GetStatus();

    /// <summary>The ids of the crews on the region's roster (every crew that reported to this region), in id order.</summary>
    [AlwaysInterleave]
    Task<IReadOnlyList<string>> GetCrewIds();

    /// <summary>Whether the command center serves this region: a crew works in it or a feeder of the imported topology
    /// is in it. An order placed in a region nobody serves (a typo, <c>海口龙花</c> for <c>海口龙华</c>) would wait for a
    /// crew forever, on no region's console.</summary>
    [AlwaysInterleave]
    Task<bool> Serves();
}

/// <summary>What dispatch needs to know about an order. <paramref name="ExcludedCrews"/> are crews that rejected it;
/// <paramref name="LapsedCrews"/> let an offer of it lapse or went off shift before answering, and are offered it
/// again only when no other crew can take it (a crew that missed an offer while driving is no refusal, and with it
/// excluded for good an order whose every eligible crew had once missed it sat unassigned beside idle crews).</summary>
public sealed record DispatchRequest(
    string OrderId,
    WorkOrderKind Kind,
    WorkOrderPriority Priority,
    GeoPoint Location,
    DateTimeOffset ArrivalDueAt,
    IReadOnlyList<string> ExcludedCrews,
    IReadOnlyList<string>? LapsedCrews = null);

public sealed record DispatchDecision(string OrderId, string CrewId, double TravelMinutes, double Score);

/// <summary>A crew's facts as dispatch sees them. <paramref name="Orders"/> are the orders counted in
/// <paramref name="Load"/>; dispatch uses them to stop counting its own not-yet-reported decisions for the crew.</summary>
public sealed record CrewSnapshot(
    string CrewId,
    IReadOnlyList<CrewSkill> Skills,
    IReadOnlyList<Shift> Shifts,
    CrewStatus Status,
    GeoPoint Location,
    int Capacity,
    int Load,
    IReadOnlyList<string>? Orders = null);

public sealed record DispatchStatus(string Region, int Crews, int Backlog, bool StormMode, long Decisions);
