using System.Text.Json.Serialization;
using PowerService.Grains.Outages;
using PowerService.Grains.Sla;
using PowerService.Grains.Topology;

namespace PowerService.Grains.WorkOrders;

/// <summary>The persisted state of one order. Immutable: a turn builds the next record with <c>with</c> and keeps the
/// old one until the write succeeds, so a refused action or a failed write leaves the grain as it was.</summary>
internal sealed record WorkOrderRecord
{
    public bool Exists { get; init; }
    public string Id { get; init; } = "";
    public WorkOrderKind Kind { get; init; }
    public IntakeChannel Channel { get; init; }

    /// <summary>How many times the customer put the order on hold from the app (<see cref="WorkOrderGrain.MaxCustomerHolds"/>).</summary>
    public int CustomerHolds { get; init; }
    public WorkOrderPriority Priority { get; init; }
    public WorkOrderState State { get; init; }
    public string Region { get; init; } = "";
    public string? GridId { get; init; }
    public string? CustomerId { get; init; }
    public string? TransformerAreaId { get; init; }
    public GeoPoint Location { get; init; }
    public AreaClass AreaClass { get; init; }
    public ConnectionCategory? ConnectionCategory { get; init; }
    public string Description { get; init; } = "";
    public string? CrewId { get; init; }

    /// <summary>When the current offer to <see cref="CrewId"/> lapses unless accepted (never for a booked visit).</summary>
    public DateTimeOffset? OfferExpiresAt { get; init; }

    /// <summary>When dispatchers are alerted that the booked crew has not accepted its visit: a booked visit's offer
    /// does not lapse (a missed tap cancelled the customer's appointment), so someone must know it is unanswered.</summary>
    public DateTimeOffset? UnansweredAlertAt { get; init; }

    /// <summary>When dispatchers were alerted that the booked crew has not answered its visit (null once it did, or
    /// the visit was booked anew): the console lists it again after a reload or at the next shift's sign-in.</summary>
    public DateTimeOffset? VisitUnansweredAt { get; init; }

    /// <summary>Crews that rejected the order; dispatch skips them (until the order is reopened).</summary>
    public IReadOnlyList<string> ExcludedCrews { get; init; } = [];

    /// <summary>Crews whose offer lapsed unanswered or that went off shift before answering: not a refusal of the work,
    /// so dispatch offers the order to them again when no other crew can take it (until the order is reopened).</summary>
    public IReadOnlyList<string> LapsedCrews { get; init; } = [];

    /// <summary>The standing offer was given by a person to a crew off shift or without the skill, knowingly (a crew called
    /// in): it is not handed back because the crew is off shift.</summary>
    public bool OfferForced { get; init; }

    /// <summary>True while dispatch holds the order in its backlog (it will call Assign).</summary>
    public bool QueuedInDispatch { get; init; }

    public string? BookingId { get; init; }
    public DateTimeOffset? SlotStart { get; init; }

    /// <summary>The end of the booked slot (null in records stored before it was kept).</summary>
    public DateTimeOffset? SlotEnd { get; init; }

    /// <summary>The visit the booked crew rejected, kept for the customer and the console until the order is booked
    /// again, a crew is sent or it is reopened.</summary>
    public BookedVisit? CalledOffVisit { get; init; }

    /// <summary>When the reserved order is dispatched to its booked crew (slot start minus the lead time).</summary>
    public DateTimeOffset? DispatchBookedAt { get; init; }

    public string? MergedInto { get; init; }

    /// <summary><see cref="MergedInto"/> is a work order (not an outage), which knows this order is merged into it.</summary>
    public bool MergedIntoOrder { get; init; }

    /// <summary>Orders merged into this one as duplicates (a person's merge): their customers' requests are carried by
    /// this order's work, so if it is cancelled they are reopened.</summary>
    public IReadOnlyList<string> MergedOrders { get; init; } = [];

    /// <summary>The outage this order repairs, or the one a fault call merged into.</summary>
    public string? OutageId { get; init; }

    /// <summary>What a fault call was found to be when it came in (null: not a classified fault call).</summary>
    public FaultCallVerdict? Classification { get; init; }
    public bool Escalated { get; init; }
    public int Breaches { get; init; }

    /// <summary>Set while a customer-caused hold pauses the clocks.</summary>
    public DateTimeOffset? SuspendedAt { get; init; }

    public IReadOnlyList<SlaClock> Clocks { get; init; } = [];

    /// <summary>The last <see cref="WorkOrderGrain.RequestsRemembered"/> applied requests that carried an id, as
    /// "actor request-id", stored with the change they made: a resend is recognised after a restart too.</summary>
    public IReadOnlyList<string> RecentRequests { get; init; } = [];

    public CallbackRecord? Callback { get; init; }

    /// <summary>Due time of the order's one reminder as last registered (null: none registered).</summary>
    public DateTimeOffset? ReminderDueAt { get; init; }

    /// <summary>Who created it (null in records stored before it was kept): the same sender's same order sent again
    /// under its own id is answered with this one.</summary>
    public string? CreatedBy { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public int Version { get; init; }

    /// <summary>The version of the last change a person's decision about the order rests on: an SLA warning, breach or
    /// escalation recorded on its own raises <see cref="Version"/> but not this (0 in records stored before it was kept).</summary>
    public int DecisionVersion { get; init; }

    /// <summary>Whether a request made on <paramref name="seen"/> is still on the order as it is: nothing but SLA
    /// warnings and breaches happened since. A picker left open across a warning wave was refused as "changed since you
    /// saw it", naming the state the dispatcher had seen.</summary>
    public bool StillAsSeen(int seen) => seen <= Version && seen >= (DecisionVersion > 0 ? DecisionVersion : Version);

    [JsonIgnore]
    public bool IsBreached => Breaches > 0;

    /// <summary>The visit booked for the order, or else the one its booked crew called off.</summary>
    [JsonIgnore]
    public BookedVisit? Visit => BookingId is { } booking && SlotStart is { } start
        ? new BookedVisit(booking, Crews.BookingId.CrewOf(booking) ?? "", start, SlotEnd,
            UnansweredSince: State is WorkOrderState.Dispatched or WorkOrderState.Reserved ? VisitUnansweredAt : null)
        : CalledOffVisit;

    public WorkOrderView ToView() => new(
        Id, Kind, Channel, Priority, State, Region, CustomerId, TransformerAreaId, Location, AreaClass, ConnectionCategory,
        Description, CrewId, MergedInto, OutageId, Classification, Escalated, SuspendedAt, CreatedAt, UpdatedAt,
        Clocks.Select(c => c.ToView()).ToArray(),
        // A reopened order is back with dispatch: its last callback ("Dissatisfied", due yesterday) read as one overdue.
        // It stays on record (the journal, the indicators) and the next resolution schedules a new one.
        State is WorkOrderState.CallbackPending or WorkOrderState.Closed ? Callback?.ToView() : null,
        Version,
        Visit,
        State == WorkOrderState.Dispatched ? OfferExpiresAt : null);
}

/// <summary>The callback (回访) of a completed order. <paramref name="RetriesUsed"/> counts the scheduled retries of an
/// unreachable customer; <paramref name="RetryAnnounced"/> is set once the retry's CallbackDue event was journaled.</summary>
internal sealed record CallbackRecord(
    DateTimeOffset DueAt,
    int Attempts = 0,
    int RetriesUsed = 0,
    DateTimeOffset? NextAttemptAt = null,
    bool RetryAnnounced = false,
    CallbackOutcome? LastOutcome = null)
{
    public CallbackView ToView() => new(DueAt, Attempts, NextAttemptAt, LastOutcome);
}
