namespace PowerService.Grains.WorkOrders;

/// <summary>The lifecycle of DESIGN.md §5. Legal moves are the table in <see cref="WorkOrderTransitions"/>.</summary>
public enum WorkOrderState
{
    Created,
    /// <summary>A booking holds a crew's time slot for it.</summary>
    Reserved,
    /// <summary>Offered to a crew, waiting for it to accept.</summary>
    Dispatched,
    Accepted,
    EnRoute,
    OnSite,
    Resolved,
    CallbackPending,
    Closed,
    /// <summary>The crew rejected it or did not accept in time: back to dispatch.</summary>
    Rejected,
    Cancelled,
    /// <summary>Folded into another order or an outage.</summary>
    Merged,
    /// <summary>The customer was dissatisfied at callback: back to dispatch, history kept.</summary>
    Reopened,
}

/// <summary>What someone (or the system) does to an order.</summary>
public enum WorkOrderAction
{
    Reserve,
    Dispatch,
    Accept,
    Reject,
    /// <summary>The system withdraws an offer the crew did not accept within the timeout.</summary>
    ExpireOffer,
    StartTravel,
    Arrive,
    Resolve,
    ScheduleCallback,
    Close,
    Cancel,
    Merge,
    Reopen,
    /// <summary>A customer-caused hold (the customer asked to postpone, or is not at home): the order keeps its
    /// state and its running SLA clocks pause.</summary>
    Suspend,
    /// <summary>Ends the hold: paused clocks run again, their due times moved by the time the hold took.</summary>
    Resume,
}
