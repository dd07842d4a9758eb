using System.Collections.Frozen;
using static PowerService.Grains.WorkOrders.WorkOrderAction;
using static PowerService.Grains.WorkOrders.WorkOrderState;

namespace PowerService.Grains.WorkOrders;

/// <summary>The lifecycle of DESIGN.md §5 as a table: (from, action) → to. Anything not in it is illegal.
/// Escalation is a flag on the order, not a state; Suspend/Resume (a customer-caused hold) keep the state.</summary>
internal static class WorkOrderTransitions
{
    private static readonly WorkOrderState[] WaitingForCrew = [Created, Rejected, Reopened];
    private static readonly WorkOrderState[] BeforeWork = [Created, Reserved, Dispatched, Accepted, Rejected, Reopened];
    private static readonly WorkOrderState[] BeforeResolution = [.. BeforeWork, EnRoute, OnSite];

    /// <summary>Every legal move, in lifecycle order.</summary>
    public static readonly IReadOnlyList<(WorkOrderState From, WorkOrderAction Action, WorkOrderState To)> Rows =
    [
        .. Each(WaitingForCrew, Reserve, Reserved),
        // A booked visit moved to another slot (the customer rescheduling before the crew is sent): the new booking
        // replaces the old one.
        (Reserved, Reserve, Reserved),
        // Dispatch: a crew is offered the order; from Dispatched/Accepted/EnRoute it is a reassignment (override).
        .. Each([.. WaitingForCrew, Reserved, Dispatched, Accepted, EnRoute], WorkOrderAction.Dispatch, Dispatched),
        (Dispatched, Accept, Accepted),
        (Dispatched, Reject, Rejected),
        (Dispatched, ExpireOffer, Rejected),
        (Accepted, StartTravel, EnRoute),
        (EnRoute, Arrive, OnSite),
        (OnSite, Resolve, Resolved),
        (Resolved, ScheduleCallback, CallbackPending),
        (CallbackPending, Close, Closed),
        (CallbackPending, Reopen, Reopened),
        .. Each(BeforeResolution, Cancel, Cancelled),
        // Merge only before work starts: once a crew travels, its order is the one that stays.
        .. Each(BeforeWork, Merge, Merged),
        .. Each(BeforeResolution, Suspend, null),
        .. Each(BeforeResolution, Resume, null),
    ];

    /// <summary>Actions only the crew the order is assigned to may take.</summary>
    public static readonly FrozenSet<WorkOrderAction> CrewActions = new[] { Accept, Reject, StartTravel, Arrive, Resolve }.ToFrozenSet();

    private static readonly FrozenDictionary<(WorkOrderState, WorkOrderAction), WorkOrderState> Table =
        Rows.ToFrozenDictionary(r => (r.From, r.Action), r => r.To);

    public static bool TryNext(WorkOrderState from, WorkOrderAction action, out WorkOrderState to) => Table.TryGetValue((from, action), out to);

    /// <summary>The order waits for a crew (none offered, booked or working it): dispatch's to place.</summary>
    public static bool WaitsForCrew(WorkOrderState state) => Array.IndexOf(WaitingForCrew, state) >= 0;

    /// <summary>A crew has taken the order and works it: accepted, on its way, on site.</summary>
    public static bool IsWorkedByCrew(WorkOrderState state) => state is Accepted or EnRoute or OnSite;

    /// <summary>States with no way out.</summary>
    public static bool IsTerminal(WorkOrderState state) => state is Closed or Cancelled or Merged;

    // A null target keeps the state (the hold actions).
    private static IEnumerable<(WorkOrderState, WorkOrderAction, WorkOrderState)> Each(WorkOrderState[] from, WorkOrderAction action, WorkOrderState? to) =>
        from.Select(state => (state, action, to ?? state));
}
