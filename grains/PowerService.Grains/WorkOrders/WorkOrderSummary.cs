using PowerService.Grains.Topology;

namespace PowerService.Grains.WorkOrders;

/// <summary>One row of an order list: what a dispatcher needs to rank, filter, colour and draw an order, and no more
/// (no description, history or clock list), so a region's index holds tens of thousands of them.</summary>
public sealed record WorkOrderSummary(
    string Id,
    string Region,
    WorkOrderKind Kind,
    WorkOrderState State,
    WorkOrderPriority Priority,
    string? CrewId,
    string? CustomerId,
    GeoPoint Location,
    SlaDue? Due,
    bool Escalated,
    /// <summary>Set while a customer-caused hold pauses the clocks (then there is no <see cref="Due"/>).</summary>
    DateTimeOffset? SuspendedAt,
    DateTimeOffset UpdatedAt,
    int Version,
    /// <summary>How the request came in (rows stored before it was kept read as the hotline's).</summary>
    IntakeChannel Channel = IntakeChannel.Hotline95598,
    /// <summary>The visit booked for the order, or the one its booked crew called off (as on the order).</summary>
    BookedVisit? Visit = null,
    /// <summary>When the customer is to be called again, after a callback that could not reach them (no SLA clock
    /// runs then: the row would show nothing to do).</summary>
    DateTimeOffset? CallbackRetryAt = null)
{
    public static WorkOrderSummary Of(WorkOrderView order) => new(
        order.Id, order.Region, order.Kind, order.State, order.Priority, order.CrewId, order.CustomerId,
        order.Location ?? default, NextDue(order.SlaClocks), order.Escalated, order.SuspendedAt, order.UpdatedAt, order.Version, order.Channel, order.Visit,
        order.State == WorkOrderState.CallbackPending ? order.Callback?.NextAttemptAt : null);

    internal static WorkOrderSummary Of(WorkOrderRecord order) => new(
        order.Id, order.Region, order.Kind, order.State, order.Priority, order.CrewId, order.CustomerId,
        order.Location, NextDue(order.Clocks.Select(c => c.ToView())), order.Escalated, order.SuspendedAt, order.UpdatedAt, order.Version, order.Channel, order.Visit,
        order.State == WorkOrderState.CallbackPending ? order.Callback?.NextAttemptAt : null);

    /// <summary>The running promise due first (a paused or stopped clock promises nothing now).</summary>
    internal static SlaDue? NextDue(IEnumerable<SlaClockView> clocks)
    {
        SlaClockView? first = null;
        foreach (var clock in clocks)
        {
            if (clock.State is SlaClockState.Running or SlaClockState.Warned or SlaClockState.Breached && (first is null || clock.DueAt < first.DueAt))
            {
                first = clock;
            }
        }
        return first is null ? null : new SlaDue(first.Name, first.StartedAt, first.DueAt, first.WarnAt);
    }
}

/// <summary>The order's most urgent running SLA clock: the console counts down to <paramref name="DueAt"/> and shows it
/// as a warning from <paramref name="WarnAt"/>, the moment the silo warns (80 % of the limit in the clock's own time:
/// working time for a working-day clock, moved on by a hold); rows stored before it was kept have none.</summary>
public sealed record SlaDue(string Clock, DateTimeOffset StartedAt, DateTimeOffset DueAt, DateTimeOffset? WarnAt = null);
