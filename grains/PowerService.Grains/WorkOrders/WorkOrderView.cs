using PowerService.Grains.Outages;
using PowerService.Grains.Topology;

namespace PowerService.Grains.WorkOrders;

/// <summary>What a dispatcher, crew or customer sees of an order.</summary>
public sealed record WorkOrderView(
    string Id,
    WorkOrderKind Kind,
    IntakeChannel Channel,
    WorkOrderPriority Priority,
    WorkOrderState State,
    string Region,
    string? CustomerId,
    string? TransformerAreaId,
    GeoPoint? Location,
    AreaClass AreaClass,
    ConnectionCategory? ConnectionCategory,
    string Description,
    string? CrewId,
    string? MergedInto,
    string? OutageId,
    FaultCallVerdict? Classification,
    bool Escalated,
    /// <summary>Since when a customer-caused hold pauses the order's clocks; null when none does.</summary>
    DateTimeOffset? SuspendedAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyList<SlaClockView> SlaClocks,
    CallbackView? Callback,
    int Version,
    /// <summary>The visit booked for the order (预约), or the one its booked crew called off; null when none.</summary>
    BookedVisit? Visit = null,
    /// <summary>When the offer to <see cref="CrewId"/> lapses unless accepted; null unless the order is an open offer
    /// that can lapse (a booked visit's cannot).</summary>
    DateTimeOffset? OfferExpiresAt = null);

/// <summary>A visit booked in one of a crew's slots: the customer's appointment. <paramref name="CalledOff"/>: the booked
/// crew turned it down, its slot is free again and the visit needs a new time (until the order is booked again or a
/// crew is sent). <paramref name="End"/> is null for visits booked before it was kept. <paramref name="UnansweredSince"/>:
/// dispatchers were alerted that the booked crew has not accepted it (off shift, not answering) and it still has not.</summary>
public sealed record BookedVisit(string BookingId, string CrewId, DateTimeOffset Start, DateTimeOffset? End, bool CalledOff = false, DateTimeOffset? UnansweredSince = null);

/// <summary>One promised time limit on the order (e.g. arrival, restoration, callback).</summary>
public sealed record SlaClockView(string Name, DateTimeOffset StartedAt, DateTimeOffset WarnAt, DateTimeOffset DueAt, SlaClockState State);

public enum SlaClockState
{
    Running,
    Paused,
    Warned,
    Breached,
    /// <summary>Met: stopped before its due time.</summary>
    Met,
    /// <summary>Stopped after its due time (the breach stays on record).</summary>
    MetLate,
    /// <summary>No longer applies (the order was cancelled or merged).</summary>
    Cancelled,
}

public sealed record CallbackView(DateTimeOffset DueAt, int Attempts, DateTimeOffset? NextAttemptAt, CallbackOutcome? LastOutcome);
