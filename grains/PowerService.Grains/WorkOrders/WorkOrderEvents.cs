namespace PowerService.Grains.WorkOrders;

/// <summary>Journal event types of a work order (stream id = order id); public because readers of the journal (the
/// live feed, order history) name them too.</summary>
public static class WorkOrderEvents
{
    public const string Created = nameof(Created);
    public const string Reserved = nameof(Reserved);
    public const string Dispatched = nameof(Dispatched);
    public const string Accepted = nameof(Accepted);
    public const string Rejected = nameof(Rejected);
    public const string OfferExpired = nameof(OfferExpired);
    /// <summary>The booked crew has not accepted its visit (accept timeout, or it went off shift first): the visit stays
    /// its own, and dispatchers are alerted.</summary>
    public const string VisitUnanswered = nameof(VisitUnanswered);
    /// <summary>The booked crew rejected its visit: the slot is released and the customer's visit needs a new time.</summary>
    public const string VisitCalledOff = nameof(VisitCalledOff);
    public const string EnRoute = nameof(EnRoute);
    public const string Arrived = nameof(Arrived);
    public const string Resolved = nameof(Resolved);
    public const string CallbackScheduled = nameof(CallbackScheduled);
    public const string CallbackAttempted = nameof(CallbackAttempted);
    /// <summary>A retry of an unreachable customer is due: agents see it in their callback queue.</summary>
    public const string CallbackDue = nameof(CallbackDue);
    public const string Closed = nameof(Closed);
    public const string Cancelled = nameof(Cancelled);
    public const string Merged = nameof(Merged);
    /// <summary>The offer to a crew that had not accepted was taken back (<c>crewId</c>, <c>reason</c>): the customer put the
    /// order on hold.</summary>
    public const string OfferWithdrawn = nameof(OfferWithdrawn);
    /// <summary>Another order was merged into this one as its duplicate (<c>orderId</c>).</summary>
    public const string DuplicateMerged = nameof(DuplicateMerged);
    public const string Reopened = nameof(Reopened);
    public const string Suspended = nameof(Suspended);
    public const string Resumed = nameof(Resumed);
    public const string SlaWarned = nameof(SlaWarned);
    public const string SlaBreached = nameof(SlaBreached);
    public const string Escalated = nameof(Escalated);
    public const string PriorityRaised = nameof(PriorityRaised);
}

/// <summary>Who hears of an SLA breach: the breach goes to the grid manager; a clock still running at
/// <see cref="Sla.SlaOptions.SecondEscalationAtShare"/> of its limit goes on to the region supervisor.</summary>
public enum EscalationLevel
{
    GridManager,
    RegionSupervisor,
}
