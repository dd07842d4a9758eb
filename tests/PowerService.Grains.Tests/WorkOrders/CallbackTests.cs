using System.Text.Json;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.WorkOrders;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.WorkOrders.Scenario;

namespace PowerService.Grains.Tests.WorkOrders;

/// <summary>回访: scheduled on completion, satisfied closes, dissatisfied reopens with history, unreachable retries on
/// schedule and finally closes.</summary>
public sealed class CallbackTests
{
    private static readonly DateTimeOffset Start = WorkflowSilo.MondayMorning;

    [Fact]
    public async Task A_dissatisfied_customer_reopens_the_order_with_its_history_and_it_goes_back_to_dispatch()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "c1");
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(Fault());
        await Complete(order, "c1");
        silo.Advance(TimeSpan.FromHours(1));

        var reopened = await order.RecordCallback(new CallbackAttempt(CallbackOutcome.Dissatisfied, "agent:zhao", "lights flicker again"));

        Assert.Equal(("c1", WorkOrderState.Dispatched), (reopened.CrewId, reopened.State));
        var types = await EventTypes(order);
        Assert.Equal(
            ["Created", "Dispatched", "Accepted", "EnRoute", "Arrived", "Resolved", "CallbackScheduled", "CallbackAttempted", "Reopened", "Dispatched"],
            types);
        var attempt = (await order.GetHistory()).Single(e => e.Type == "CallbackAttempted");
        using var payload = JsonDocument.Parse(attempt.PayloadJson);
        Assert.False(payload.RootElement.GetProperty("satisfied").GetBoolean());
        Assert.Equal("Dissatisfied", payload.RootElement.GetProperty("outcome").GetString());
        // The promise starts again from the reopening, and the callback that was made is on record.
        var arrival = reopened.SlaClocks.Last(c => c.Name == "Arrival");
        Assert.Equal((Start.AddHours(1), SlaClockState.Running), (arrival.StartedAt, arrival.State));
        Assert.Equal(SlaClockState.Met, reopened.SlaClocks.Single(c => c.Name == "Callback").State);
        // Back with dispatch, the order shows no callback ("Dissatisfied", due an hour ago, read as one overdue).
        Assert.Null(reopened.Callback);

        var closed = await Complete(order, "c1");
        Assert.Equal(WorkOrderState.CallbackPending, closed.State);
        Assert.Equal(0, closed.Callback!.Attempts);
    }

    /// <summary>Closing without calling the customer did not keep the callback promise: it used to count as met and
    /// raise the on-time rate.</summary>
    [Fact]
    public async Task A_dispatcher_closing_without_a_callback_does_not_count_the_callback_promise_as_met()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "c1");
        var early = silo.Grain<IWorkOrderGrain>("o-1");
        var late = silo.Grain<IWorkOrderGrain>("o-2");
        await early.Create(Fault());
        await Complete(early, "c1");
        await late.Create(Fault());
        await Complete(late, "c1");

        var closedEarly = await early.Apply(new WorkOrderCommand(WorkOrderAction.Close, "dispatcher:li"));
        silo.Advance(TimeSpan.FromDays(10));
        await Eventually.True(async () => (await late.Get())!.SlaClocks.Single(c => c.Name == "Callback").State == SlaClockState.Breached, "the callback promise is breached");
        var closedLate = await late.Apply(new WorkOrderCommand(WorkOrderAction.Close, "dispatcher:li"));

        Assert.Equal((WorkOrderState.Closed, SlaClockState.Cancelled), (closedEarly.State, closedEarly.SlaClocks.Single(c => c.Name == "Callback").State));
        Assert.Equal(SlaClockState.Met, closedEarly.SlaClocks.Single(c => c.Name == "Arrival").State);
        Assert.Equal(SlaClockState.MetLate, closedLate.SlaClocks.Single(c => c.Name == "Callback").State);
    }

    [Fact]
    public async Task An_unreachable_customer_is_retried_on_schedule_and_the_order_closes_when_retries_run_out()
    {
        await using var silo = await WorkflowSilo.StartAsync(o =>
        {
            o.Callback.RetryDelays.Clear();
            o.Callback.RetryDelays.Add(TimeSpan.FromHours(2));
            o.Callback.RetryDelays.Add(TimeSpan.FromHours(4));
        });
        await RegisterCrew(silo, "c1");
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(Fault());
        await Complete(order, "c1");
        var unreachable = new CallbackAttempt(CallbackOutcome.Unreachable, "agent:zhao");

        var first = await order.RecordCallback(unreachable);
        silo.Advance(TimeSpan.FromHours(2));
        var firstRetry = await NextDue(order, 1);
        var second = await order.RecordCallback(unreachable);
        silo.Advance(TimeSpan.FromHours(3.5));
        Assert.Single(await order.GetHistory(), e => e.Type == "CallbackDue");
        silo.Advance(TimeSpan.FromHours(0.5));
        var secondRetry = await NextDue(order, 2);
        var closed = await order.RecordCallback(unreachable);

        Assert.Equal((WorkOrderState.CallbackPending, 1, Start.AddHours(2)), (first.State, first.Callback!.Attempts, first.Callback.NextAttemptAt));
        Assert.Equal(Start.AddHours(2), firstRetry.At);
        Assert.Equal(Start.AddHours(6), second.Callback!.NextAttemptAt);
        Assert.Equal(Start.AddHours(6), secondRetry.At);
        Assert.Equal((WorkOrderState.Closed, 3, CallbackOutcome.Unreachable), (closed.State, closed.Callback!.Attempts, closed.Callback.LastOutcome));
        using var payload = JsonDocument.Parse((await order.GetHistory())[^1].PayloadJson);
        Assert.Equal("unreachable", payload.RootElement.GetProperty("reason").GetString());
        // Each retry announced says when it is due (it carried the first callback's deadline).
        var announced = (await order.GetHistory()).Where(e => e.Type == "CallbackDue")
            .Select(e => JsonDocument.Parse(e.PayloadJson).RootElement.GetProperty("dueAt").GetDateTimeOffset()).ToList();
        Assert.Equal([Start.AddHours(2), Start.AddHours(6)], announced);
    }

    [Fact]
    public async Task A_callback_not_made_within_24_hours_warns_and_breaches()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "c1");
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(Fault());
        await Complete(order, "c1");

        silo.Advance(TimeSpan.FromHours(24));

        await Eventually.True(async () => (await order.Get())!.Escalated, "the callback breach escalates");
        var sla = (await order.GetHistory()).Where(e => e.Type is "SlaWarned" or "SlaBreached").ToList();
        Assert.Equal([Start.AddMinutes((19 * 60) + 12), Start.AddHours(24)], sla.Select(e => e.At));
        Assert.All(sla, e => Assert.Contains("\"clock\":\"Callback\"", e.PayloadJson, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_callback_is_recorded_only_while_one_is_pending_and_needs_an_actor()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(Fault(QuietRegion));

        var early = await Assert.ThrowsAsync<DomainConflictException>(() => order.RecordCallback(new CallbackAttempt(CallbackOutcome.Satisfied, Agent)));
        var noActor = await Assert.ThrowsAsync<InvalidFieldException>(() => order.RecordCallback(new CallbackAttempt(CallbackOutcome.Satisfied, "")));
        var badOutcome = await Assert.ThrowsAsync<InvalidFieldException>(() => order.RecordCallback(new CallbackAttempt((CallbackOutcome)7, Agent)));

        Assert.Contains("Created", early.Message, StringComparison.Ordinal);
        Assert.Equal(("actor", "outcome"), (noActor.Field, badOutcome.Field));
        Assert.Single(await order.GetHistory());
    }

    private static async Task<WorkOrderEvent> NextDue(IWorkOrderGrain order, int count)
    {
        await Eventually.True(async () => (await order.GetHistory()).Count(e => e.Type == "CallbackDue") == count, $"callback retry {count} is due");
        return (await order.GetHistory()).Last(e => e.Type == "CallbackDue");
    }
}
