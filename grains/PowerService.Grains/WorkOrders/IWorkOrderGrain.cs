using PowerService.Grains.Crews;
using PowerService.Grains.Topology;
using PowerService.Runtime;

namespace PowerService.Grains.WorkOrders;

/// <summary>One customer request from intake to closure (key: the order id). Every change is a journaled event
/// (stream = order id) with who, when and where; an illegal change throws <see cref="DomainConflictException"/>
/// and changes nothing.</summary>
public interface IWorkOrderGrain : IGrain
{
    /// <summary>Creates the order, starts its SLA clocks and asks dispatch for a crew when its kind needs one.
    /// Throws <see cref="InvalidFieldException"/> for bad fields, <see cref="DomainConflictException"/> if it exists.</summary>
    Task<WorkOrderView> Create(NewWorkOrder order);

    /// <summary>The order, or null when it was never created.</summary>
    Task<WorkOrderView?> Get();

    /// <summary>Applies one lifecycle action (accept, reject, en route, arrive, resolve, cancel, merge…).</summary>
    Task<WorkOrderView> Apply(WorkOrderCommand command);

    /// <summary>Whether another order may be merged into this one by a person: false when this order was never created
    /// (the merge may name an outage instead); a <see cref="DomainConflictException"/> when it is finished, or is itself
    /// being merged at this moment (merge into where it goes). Interleaves: two dispatchers merging two orders into each
    /// other at the same instant leave each order in its merge turn asking the other, which would otherwise wait on each
    /// other until the call timeout; answered from the merge in flight, at least one of them is refused at once.</summary>
    [AlwaysInterleave]
    Task<bool> TakesMerge();

    /// <summary>Order <paramref name="orderId"/> was merged into this one by a person (it is a duplicate of it): this order
    /// carries its customer's request now, and reopens it if it is itself cancelled. Journaled in this order's history.
    /// One-way: the merged order tells it after its own write, in its own turn.</summary>
    [OneWay]
    Task OrderMergedIn(string orderId);

    /// <summary>Order <paramref name="targetId"/>, which this order was merged into, was cancelled by
    /// <paramref name="actor"/>: nobody would do this order's work, so it is reopened and goes back to dispatch. Ignored
    /// unless this order is still merged into that one. One-way, as <see cref="OrderMergedIn"/>.</summary>
    [OneWay]
    Task MergeTargetCancelled(string targetId, string actor);

    /// <summary>The booking id of the visit this order holds unconfirmed, if any (remembered while the order is active;
    /// the crew says whether it is still live). Interleaves: the customer's intake asks it while counting a customer's
    /// visits, from inside another order's hold.</summary>
    [AlwaysInterleave]
    Task<string?> HeldVisit();

    /// <summary>Outage <paramref name="outageId"/> was inferred shortly after this fault call: the call folds into it
    /// (merged, its crew let go) unless it is not a customer's fault call, already belongs to an outage, or a crew is
    /// already on its way or at work (then it stays, and false is returned).</summary>
    Task<bool> JoinOutage(string outageId);

    /// <summary>Raises the order's priority to <paramref name="priority"/> (never lowers it; a finished order stays as it
    /// was), journaled with <paramref name="reason"/>: a critical customer cut by the outage it repairs.</summary>
    Task RaisePriority(WorkOrderPriority priority, string actor, string reason);

    /// <summary>Crew <paramref name="crewId"/> can no longer answer this order (<paramref name="reason"/>: it went off
    /// shift, or was moved to another region): if the order is still offered to it, unanswered, the offer is withdrawn
    /// and the order goes back to dispatch; a visit booked with it stays the customer's appointment and dispatchers are
    /// alerted, to call the crew or reassign it. One-way: the crew calls it while the order may be telling the crew of
    /// its own change.</summary>
    [OneWay]
    Task CrewCannotAnswer(string crewId, string actor, string reason);

    /// <summary>Crew <paramref name="crewId"/> was off shift when this order's offer reached it (it went off shift while the
    /// order was being offered: the offer checked a crew still on shift): handled as <see cref="CrewCannotAnswer"/>, unless a
    /// person gave it the offer knowingly (a crew called in). One-way, for the same reason.</summary>
    [OneWay]
    Task OfferedWhileOffShift(string crewId);

    /// <summary>Crew <paramref name="crewId"/> now has only <paramref name="skills"/> (a crews import took one away): if
    /// the order needs a skill it lost, it is handled as <see cref="CrewCannotAnswer"/> (an unanswered offer goes back to
    /// dispatch, a booked visit alerts dispatchers). One-way, for the same reason.</summary>
    [OneWay]
    Task CrewSkillsChanged(string crewId, IReadOnlyList<CrewSkill> skills, string actor);

    /// <summary>Tells the views that mirror this order its stored state again: its crew's order list, the region's
    /// order index and, while it waits for a crew, dispatch's backlog (which may offer it at once). Those views are
    /// written behind, so a crash can lose their last seconds; the silo's recovery calls this for every order the journal
    /// changed since the views were last known stored (<see cref="Recovery.ViewRecovery"/>). A view that already holds
    /// the state ignores it.</summary>
    Task Reannounce();

    /// <summary>Crew <paramref name="crewId"/> lists this order: the order tells it its state and crew, so a crew list
    /// restored from before a crash drops an order that has left it meanwhile. One-way, like
    /// <see cref="CrewCannotAnswer"/>: the crew calls it on activation.</summary>
    [OneWay]
    Task ConfirmToCrew(string crewId);

    /// <summary>Crew <paramref name="crewId"/> holds <paramref name="bookingId"/> confirmed for this order: unless it is
    /// the order's visit, the order has the crew release it. A crash between the crew's confirm and the order's write,
    /// or between the order's move, cancellation or reassignment and the crew's release, kept the place taken for good
    /// (no order named it, and only an order may release a confirmed booking). One-way: the crew asks on activation.</summary>
    [OneWay]
    Task ConfirmBookingToCrew(string crewId, string bookingId);

    /// <summary>Assigns the order to a crew: a dispatcher's override, or the dispatch grain's decision.</summary>
    Task<WorkOrderView> Assign(string crewId, string actor, string? note = null);

    /// <summary>Holds a visit of <paramref name="crewId"/> in its slot starting at <paramref name="slotStart"/> for this
    /// order (预约), while the order waits for a crew (it could not be reserved otherwise, so a hold would only keep the
    /// slot from others; 409). Confirm it with <see cref="WorkOrderAction.Reserve"/>.</summary>
    Task<Crews.Booking> HoldVisit(string crewId, DateTimeOffset slotStart, string actor);

    /// <summary>The visit times this order may be booked for until <paramref name="until"/>: the published slots with a
    /// free place of the crews of its region that have the skill its work needs, one per time (the crew with the most
    /// free places), earliest first, at most <paramref name="limit"/>; for a customer (<paramref name="actor"/>) none
    /// starting within the booking's dispatch lead (the crew could not be sent in time).</summary>
    Task<IReadOnlyList<VisitTime>> VisitTimes(string actor, DateTimeOffset until, int limit);

    /// <summary>Records one callback attempt (回访).</summary>
    Task<WorkOrderView> RecordCallback(CallbackAttempt attempt);

    /// <summary>The order's journaled events, oldest first.</summary>
    Task<IReadOnlyList<WorkOrderEvent>> GetHistory();
}

/// <summary>A new order. <paramref name="OutageId"/> links an outage's own repair order to its outage.
/// <paramref name="RequestId"/> makes a resend harmless as for <see cref="WorkOrderCommand"/>: the same actor's create
/// sent again to the same order id is answered with the order.</summary>
public sealed record NewWorkOrder(
    WorkOrderKind Kind,
    IntakeChannel Channel,
    string Actor,
    string Description,
    WorkOrderPriority Priority = WorkOrderPriority.Normal,
    string? CustomerId = null,
    string? TransformerAreaId = null,
    string? Region = null,
    GeoPoint? Location = null,
    AreaClass? AreaClass = null,
    ConnectionCategory? ConnectionCategory = null,
    string? OutageId = null,
    string? RequestId = null);

/// <summary>One action on an order by <paramref name="Actor"/> (e.g. <c>crew:C-12</c>, <c>dispatcher:li</c>,
/// <c>system</c>), optionally where it happened and a note. <paramref name="CrewId"/> names the acting crew for crew
/// actions; <paramref name="TargetId"/> the order or outage a merge folds into. <paramref name="RequestId"/>, chosen by
/// the sender for each action it means once, makes a resend harmless: the same actor's request again is answered with
/// the order as it is, not applied twice (a PDA that lost the answer on a weak network sends the action again).
/// <paramref name="Version"/>, when given, is the order's version the sender decided on: the order changed since is a
/// conflict, not overwritten (two dispatchers assigning the same order at once: the second is told, not silently undone).
/// <paramref name="Force"/> gives a Dispatch to a crew off shift or without the work's skill all the same (the
/// dispatcher called the crew in, or knows better than its record); without it such a crew is a conflict.</summary>
public sealed record WorkOrderCommand(
    WorkOrderAction Action,
    string Actor,
    GeoPoint? Location = null,
    string? Note = null,
    string? CrewId = null,
    string? TargetId = null,
    string? RequestId = null,
    int? Version = null,
    bool Force = false);

public enum CallbackOutcome
{
    Satisfied,
    Dissatisfied,
    Unreachable,
}

/// <param name="Version">The order's version the caller saw: a callback recorded since (another agent's, at the same time)
/// makes this one a 409, not a second attempt — two agents' "could not reach" at once counted two rounds and used up the
/// retries. Null: not checked.</param>
/// <param name="RequestId">Chosen by the sender per attempt, as for a transition: the attempt sent again (its answer was
/// lost) is answered with the order, not counted as another round (four resends of "could not reach" closed the order).</param>
public sealed record CallbackAttempt(CallbackOutcome Outcome, string Actor, string? Note = null, int? Version = null, string? RequestId = null);

public sealed record WorkOrderEvent(long Sequence, string Type, DateTimeOffset At, string? Actor, string? Location, string PayloadJson);

/// <summary>A time a visit can be booked: the slot, the crew to hold it with, and how many places are free at that time
/// among the region's crews able to do the work.</summary>
public sealed record VisitTime(DateTimeOffset Start, DateTimeOffset End, string CrewId, int Free);
