using PowerService.Grains.Sla;
using PowerService.Grains.WorkOrders;

namespace PowerService.Grains.Indicators;

/// <summary>What one stored change of an order counts for, read from the records before and after it, so that every
/// path that stops a clock or records a callback is counted without each one remembering to.</summary>
internal static class OrderIndicatorFacts
{
    public static List<OrderFact> Between(WorkOrderRecord before, WorkOrderRecord after, DateTimeOffset now, SlaPolicy sla)
    {
        var facts = new List<OrderFact>();
        if (!before.Exists && after.Kind == WorkOrderKind.Complaint)
        {
            facts.Add(new OrderFact($"{after.Id}:complaint", OrderFactKind.ComplaintReceived, after.CreatedAt));
        }
        foreach (var clock in after.Clocks)
        {
            var was = before.Clocks.FirstOrDefault(c => c.Name == clock.Name && c.StartedAt == clock.StartedAt);
            var key = $"{after.Id}:clock:{clock.Name}:{clock.StartedAt.UtcTicks}";
            if (clock.Breached && was is not { Breached: true })
            {
                facts.Add(new OrderFact(key, OrderFactKind.ClockBreached, clock.DueAt));
            }
            else if (clock.Outcome is { } outcome && was?.Outcome is null && clock.StoppedAt is { } stoppedAt && !clock.Breached)
            {
                // Stopped late before its breach moment fired: the breach is counted here, once.
                if (outcome == SlaClockState.Met)
                {
                    facts.Add(new OrderFact(key, OrderFactKind.ClockMet, stoppedAt));
                }
                else if (outcome == SlaClockState.MetLate)
                {
                    facts.Add(new OrderFact(key, OrderFactKind.ClockBreached, stoppedAt));
                }
            }
        }
        if (after.Kind == WorkOrderKind.NewConnection && before.Callback is null && after.Callback is not null)
        {
            // The first resolution: a reopened connection resolved again is still one connection.
            facts.Add(new OrderFact($"{after.Id}:connected", OrderFactKind.NewConnectionCompleted, now,
                Math.Round(HandlingTime(before, now, sla).TotalDays, 3)));
        }
        // A reopened order resolved again starts a new callback (a new due time) whose attempts count from zero.
        var attemptsBefore = before.Callback is { } earlier && earlier.DueAt == after.Callback?.DueAt ? earlier.Attempts : 0;
        if (after.Callback is { LastOutcome: { } result } callback && callback.Attempts > attemptsBefore)
        {
            var kind = result switch
            {
                CallbackOutcome.Satisfied => OrderFactKind.CallbackSatisfied,
                CallbackOutcome.Dissatisfied => OrderFactKind.CallbackDissatisfied,
                _ => OrderFactKind.CallbackUnreachable,
            };
            facts.Add(new OrderFact($"{after.Id}:callback:{callback.DueAt.UtcTicks}:{callback.Attempts}", kind, now));
        }
        return facts;
    }

    /// <summary>The utility's handling time of a new connection (DESIGN §5), in working days: its Handling clock's, which
    /// stands still while the customer holds the order, so the customer's time is not the utility's (as the SLA verdict
    /// judges it). Without that clock, receipt to now.</summary>
    private static TimeSpan HandlingTime(WorkOrderRecord before, DateTimeOffset now, SlaPolicy sla)
    {
        return before.Clocks.LastOrDefault(c => c.Name == SlaPolicy.Handling && !c.IsFinished) is { } clock
            ? clock.Used(now, sla)
            : sla.Between(SlaBasis.WorkingTime, before.CreatedAt, now);
    }
}
