using System.Text.Json;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.WorkOrders.Scenario;

namespace PowerService.Grains.Tests.Sla;

/// <summary>Warnings, breaches and escalations fire at the promised moments of the manual clock, recorded at the
/// moment they were due; nothing fires for an order that no longer needs it.</summary>
public sealed class SlaClockTests
{
    private static readonly DateTimeOffset Start = WorkflowSilo.MondayMorning;

    /// <summary>Friday 2026-11-27 09:00 China time.</summary>
    private static readonly DateTimeOffset FridayMorning = Start.AddDays(4);

    [Fact]
    public async Task An_urban_fault_warns_at_36_minutes_breaches_and_escalates_at_45_and_goes_to_the_supervisor_at_half_past_the_limit()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        var created = await order.Create(Fault(QuietRegion));
        var arrival = created.SlaClocks.Single(c => c.Name == "Arrival");
        Assert.Equal((Start.AddMinutes(36), Start.AddMinutes(45)), (arrival.WarnAt, arrival.DueAt));

        silo.Advance(TimeSpan.FromMinutes(35));
        Assert.Equal(SlaClockState.Running, (await order.Get())!.SlaClocks.Single().State);
        silo.Advance(TimeSpan.FromMinutes(1));
        var warned = await Next(order, "SlaWarned");
        silo.Advance(TimeSpan.FromMinutes(8));
        Assert.False((await order.Get())!.Escalated);
        silo.Advance(TimeSpan.FromMinutes(1));
        var breached = await Next(order, "SlaBreached");
        silo.Advance(TimeSpan.FromMinutes(22.5));
        await Eventually.True(async () => (await order.GetHistory()).Count(e => e.Type == "Escalated") == 2, "the second escalation is journaled");

        AssertFiredOnTime(warned, Start.AddMinutes(36));
        AssertFiredOnTime(breached, Start.AddMinutes(45));
        var escalations = (await order.GetHistory()).Where(e => e.Type == "Escalated").ToList();
        Assert.Equal([Start.AddMinutes(45), Start.AddMinutes(67.5)], escalations.Select(e => e.At));
        Assert.Equal(["GridManager", "RegionSupervisor"], escalations.Select(e => Payload(e).GetProperty("level").GetString()));
        var view = await order.Get();
        Assert.True(view!.Escalated);
        Assert.Equal(SlaClockState.Breached, view.SlaClocks.Single().State);
        Assert.Equal(WorkOrderState.Created, view.State);
    }

    [Theory]
    [InlineData(AreaClass.Urban, 45, 3)]
    [InlineData(AreaClass.Rural, 90, 4)]
    [InlineData(AreaClass.Remote, 120, 6)]
    public async Task Repair_limits_follow_the_area_class_and_restoration_runs_from_arrival(AreaClass area, int arrivalMinutes, int restorationHours)
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await RegisterCrew(silo, "c1");
        var order = silo.Grain<IWorkOrderGrain>("o-1");

        var created = await order.Create(Fault(area: area));
        await order.Apply(ByCrew(WorkOrderAction.Accept, "c1"));
        await order.Apply(ByCrew(WorkOrderAction.StartTravel, "c1"));
        silo.Advance(TimeSpan.FromMinutes(20));
        var onSite = await order.Apply(ByCrew(WorkOrderAction.Arrive, "c1"));

        Assert.Equal(Start.AddMinutes(arrivalMinutes), created.SlaClocks.Single(c => c.Name == "Arrival").DueAt);
        Assert.Equal(SlaClockState.Met, onSite.SlaClocks.Single(c => c.Name == "Arrival").State);
        var restoration = onSite.SlaClocks.Single(c => c.Name == "Restoration");
        Assert.Equal((Start.AddMinutes(20), Start.AddMinutes(20).AddHours(restorationHours)), (restoration.StartedAt, restoration.DueAt));
        Assert.Equal(Start.AddMinutes(20).AddHours(restorationHours * 0.8), restoration.WarnAt);
    }

    [Fact]
    public async Task A_clock_stopped_by_its_milestone_fires_nothing_and_the_next_clock_fires_on_its_own_time()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = await OnTheWayAsync(silo);
        silo.Advance(TimeSpan.FromMinutes(30));
        await order.Apply(ByCrew(WorkOrderAction.Arrive, "c1"));

        silo.Advance(TimeSpan.FromMinutes(30));
        silo.Advance(TimeSpan.FromMinutes(144 - 30));
        var warned = await Next(order, "SlaWarned");

        AssertFiredOnTime(warned, Start.AddMinutes(30 + 144));
        Assert.Equal("Restoration", Payload(warned).GetProperty("clock").GetString());
        Assert.Single(await order.GetHistory(), e => e.Type.StartsWith("Sla", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_late_arrival_is_recorded_as_met_late_and_keeps_the_breach()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = await OnTheWayAsync(silo);
        silo.Advance(TimeSpan.FromMinutes(50));
        await Next(order, "SlaBreached");

        var onSite = await order.Apply(ByCrew(WorkOrderAction.Arrive, "c1"));

        Assert.Equal(SlaClockState.MetLate, onSite.SlaClocks.Single(c => c.Name == "Arrival").State);
        Assert.True(onSite.Escalated);
        using var arrived = JsonDocument.Parse((await order.GetHistory())[^1].PayloadJson);
        Assert.Equal("MetLate", arrived.RootElement.GetProperty("clocks")[0].GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Working_day_clocks_skip_the_weekend()
    {
        await using var silo = await WorkflowSilo.StartAsync(start: FridayMorning);
        var order = silo.Grain<IWorkOrderGrain>("o-1");

        var connection = await silo.Grain<IWorkOrderGrain>("o-2").Create(OfKind(WorkOrderKind.NewConnection, category: ConnectionCategory.Residential));
        var complaint = await order.Create(OfKind(WorkOrderKind.Complaint));

        var handling = connection.SlaClocks.Single();
        Assert.Equal((FridayMorning.AddDays(6), FridayMorning.AddDays(7)), (handling.WarnAt, handling.DueAt));
        var contact = complaint.SlaClocks.Single(c => c.Name == "Contact");
        // 80 % of one working day is 19.2 h of working time: 15 h left on Friday, 4.2 h into Monday.
        var mondayWarn = FridayMorning.AddDays(3).AddHours(-9).AddHours(4.2);
        Assert.Equal((mondayWarn, FridayMorning.AddDays(3)), (contact.WarnAt, contact.DueAt));
        Assert.Equal(FridayMorning.AddDays(11), complaint.SlaClocks.Single(c => c.Name == "Reply").DueAt);

        silo.Advance(TimeSpan.FromHours(62));
        Assert.Equal(SlaClockState.Running, (await order.Get())!.SlaClocks.Single(c => c.Name == "Contact").State);
        silo.Advance(mondayWarn - FridayMorning - TimeSpan.FromHours(62));
        AssertFiredOnTime(await Next(order, "SlaWarned"), mondayWarn);
    }

    [Theory]
    [InlineData(true, false, 8)]
    [InlineData(false, true, 5)]
    [InlineData(true, true, 7)]
    public async Task Holidays_stop_working_day_clocks_and_make_up_days_run_them(bool tuesdayHoliday, bool saturdayMakeUp, int dueInDays)
    {
        await using var silo = await WorkflowSilo.StartAsync(o =>
        {
            if (tuesdayHoliday)
            {
                o.Sla.Holidays.Add(new DateOnly(2026, 11, 24));
            }
            if (saturdayMakeUp)
            {
                o.Sla.MakeUpWorkingDays.Add(new DateOnly(2026, 11, 28));
            }
        });

        var verification = await silo.Grain<IWorkOrderGrain>("o-1").Create(OfKind(WorkOrderKind.MeterVerification));

        // Monday 09:00 + 5 working days is the next Monday 09:00 on a plain calendar; a holiday adds a day, a make-up
        // Saturday takes one.
        Assert.Equal(Start.AddDays(dueInDays), verification.SlaClocks.Single().DueAt);
    }

    [Fact]
    public async Task A_reconnection_after_arrears_are_paid_is_due_within_24_hours_round_the_clock()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        silo.Advance(TimeSpan.FromDays(4) + TimeSpan.FromHours(9)); // Friday 18:00: the weekend does not stop it
        var paidAt = silo.Clock.GetUtcNow();

        var reconnection = await silo.Grain<IWorkOrderGrain>("o-1").Create(OfKind(WorkOrderKind.Reconnection));

        var clock = reconnection.SlaClocks.Single();
        Assert.Equal(("Handling", paidAt.AddHours(24), paidAt.AddHours(24 * 0.8)), (clock.Name, clock.DueAt, clock.WarnAt));
    }

    [Theory]
    [InlineData(ConnectionCategory.Residential, 5)]
    [InlineData(ConnectionCategory.LowVoltageNonResidential, 6)]
    [InlineData(ConnectionCategory.HighVoltageSingleSupply, 22)]
    [InlineData(ConnectionCategory.HighVoltageDualSupply, 32)]
    public async Task New_connection_handling_time_follows_the_connection_category(ConnectionCategory category, int workingDays)
    {
        await using var silo = await WorkflowSilo.StartAsync();

        var created = await silo.Grain<IWorkOrderGrain>("o-1").Create(OfKind(WorkOrderKind.NewConnection, category: category));

        var weeks = workingDays / 5;
        var expected = Start.AddDays((weeks * 7) + (workingDays % 5));
        Assert.Equal(expected, created.SlaClocks.Single().DueAt);
    }

    [Theory]
    [InlineData(WorkOrderAction.Cancel)]
    [InlineData(WorkOrderAction.Merge)]
    public async Task A_cancelled_or_merged_order_stops_its_clocks_and_its_reminder(WorkOrderAction action)
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(Fault(QuietRegion));
        await silo.Grain<IWorkOrderGrain>("o-main").Create(Fault(QuietRegion)); // what a merge folds it into
        silo.Advance(TimeSpan.FromMinutes(10));

        var stopped = await order.Apply(ByDispatcher(action, "o-main"));
        silo.Advance(TimeSpan.FromMinutes(60));

        Assert.Equal(SlaClockState.Cancelled, stopped.SlaClocks.Single().State);
        await Eventually.True(async () => (await silo.Storage.ReadRemindersAsync(new GrainId("WorkOrderGrain", "o-1"))).Count == 0, "the reminder is gone");
        Assert.DoesNotContain(await EventTypes(order), t => t.StartsWith("Sla", StringComparison.Ordinal));
        Assert.False((await order.Get())!.Escalated);
    }

    [Fact]
    public async Task Clocks_keep_running_across_a_silo_restart()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await silo.Grain<IWorkOrderGrain>("o-1").Create(Fault(QuietRegion));

        await silo.RestartAsync();
        silo.Advance(TimeSpan.FromMinutes(36));

        AssertFiredOnTime(await Next(silo.Grain<IWorkOrderGrain>("o-1"), "SlaWarned"), Start.AddMinutes(36));
    }

    [Fact]
    public async Task Moments_that_fell_due_while_the_silo_was_down_fire_on_start_recorded_at_their_due_time()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await silo.Grain<IWorkOrderGrain>("o-1").Create(Fault(QuietRegion));

        await silo.RestartAsync(downFor: TimeSpan.FromMinutes(50));

        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await Eventually.True(async () => (await order.Get())!.Escalated, "the breach is caught up");
        var history = await order.GetHistory();
        Assert.Equal(["Created", "SlaWarned", "SlaBreached", "Escalated"], history.Select(e => e.Type));
        Assert.Equal([Start, Start.AddMinutes(36), Start.AddMinutes(45), Start.AddMinutes(45)], history.Select(e => e.At));
        Assert.Equal(TimeSpan.FromMinutes(5), Payload(history[2]).GetProperty("lateBy").Deserialize<TimeSpan>());
    }

    [Fact]
    public async Task A_crew_arriving_while_the_order_is_on_hold_is_judged_at_the_start_of_the_hold_not_late()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = await OnTheWayAsync(silo);
        silo.Advance(TimeSpan.FromMinutes(15));
        await order.Apply(ByDispatcher(WorkOrderAction.Suspend) with { Note = "the customer asked the crew to wait at the gate" });
        silo.Advance(TimeSpan.FromMinutes(40)); // 55 minutes after the call: past the 45 minutes, but 40 of them on hold

        var onSite = await order.Apply(ByCrew(WorkOrderAction.Arrive, "c1"));

        Assert.Equal(SlaClockState.Met, onSite.SlaClocks.Single(c => c.Name == "Arrival").State);
        Assert.False(onSite.Escalated);
    }

    [Fact]
    public async Task A_customer_hold_pauses_the_clocks_and_moves_their_moments_by_the_time_it_took()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(Fault(QuietRegion));
        silo.Advance(TimeSpan.FromMinutes(10));
        var held = await order.Apply(ByDispatcher(WorkOrderAction.Suspend) with { Note = "customer not at home until 09:40" });
        silo.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(SlaClockState.Paused, (await order.Get())!.SlaClocks.Single().State);

        var resumed = await order.Apply(ByDispatcher(WorkOrderAction.Resume));
        silo.Advance(TimeSpan.FromMinutes(26));

        Assert.Equal(SlaClockState.Paused, held.SlaClocks.Single().State);
        Assert.Equal(Start.AddMinutes(10), held.SuspendedAt);
        Assert.Null(resumed.SuspendedAt);
        var arrival = resumed.SlaClocks.Single();
        Assert.Equal((Start.AddMinutes(66), Start.AddMinutes(75), SlaClockState.Running), (arrival.WarnAt, arrival.DueAt, arrival.State));
        AssertFiredOnTime(await Next(order, "SlaWarned"), Start.AddMinutes(66));
        Assert.Contains("SlaWarned", await EventTypes(order));
        Assert.Equal(["Created", "Suspended", "Resumed", "SlaWarned"], await EventTypes(order));
    }

    [Fact]
    public async Task A_request_sent_again_is_answered_not_applied_twice_even_after_a_restart()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(Fault(QuietRegion));

        var held = await order.Apply(ByDispatcher(WorkOrderAction.Suspend) with { RequestId = "r-1" });
        var again = await order.Apply(ByDispatcher(WorkOrderAction.Suspend) with { RequestId = "r-1" });
        await silo.RestartAsync();
        order = silo.Grain<IWorkOrderGrain>("o-1");
        var afterRestart = await order.Apply(ByDispatcher(WorkOrderAction.Suspend) with { RequestId = "r-1" });

        Assert.Equal((held.Version, held.SuspendedAt), (again.Version, again.SuspendedAt));
        Assert.Equal(held.Version, afterRestart.Version);
        Assert.Equal(["Created", "Suspended"], await EventTypes(order));
        // A new request (another id, or none) is a new action: suspending a held order is refused as before.
        await Assert.ThrowsAsync<DomainConflictException>(() => order.Apply(ByDispatcher(WorkOrderAction.Suspend) with { RequestId = "r-2" }));
        await Assert.ThrowsAsync<DomainConflictException>(() => order.Apply(ByDispatcher(WorkOrderAction.Suspend)));
        var error = await Assert.ThrowsAsync<InvalidFieldException>(() => order.Apply(ByDispatcher(WorkOrderAction.Resume) with { RequestId = "r 3" }));
        Assert.Equal("requestId", error.Field);
    }

    [Fact]
    public async Task A_hold_on_a_working_day_clock_moves_it_by_working_time_only()
    {
        await using var silo = await WorkflowSilo.StartAsync(start: FridayMorning);
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(OfKind(WorkOrderKind.MeterVerification));

        await order.Apply(ByDispatcher(WorkOrderAction.Suspend));
        silo.Advance(TimeSpan.FromDays(3));
        var resumed = await order.Apply(ByDispatcher(WorkOrderAction.Resume));

        // Held Friday 09:00 to Monday 09:00, one working day (Friday's 15 h and Monday's 9 h): the due time moves from
        // the next Friday 09:00 by one working day, over the weekend, to the Monday after.
        Assert.Equal(FridayMorning.AddDays(10), resumed.SlaClocks.Single().DueAt);
    }

    private static async Task<WorkOrderEvent> Next(IWorkOrderGrain order, string type)
    {
        WorkOrderEvent? found = null;
        await Eventually.True(async () => (found = (await order.GetHistory()).LastOrDefault(e => e.Type == type)) is not null, $"{type} is journaled");
        return found!;
    }

    /// <summary>Recorded at the moment it was due, and fired then: the manual clock stood exactly there.</summary>
    private static void AssertFiredOnTime(WorkOrderEvent e, DateTimeOffset due)
    {
        Assert.Equal(due, e.At);
        Assert.Equal(TimeSpan.Zero, Payload(e).GetProperty("lateBy").Deserialize<TimeSpan>());
    }

    private static JsonElement Payload(WorkOrderEvent e) => JsonDocument.Parse(e.PayloadJson).RootElement;

    /// <summary>Fault o-1 taken by crew c1, which is on its way (the arrival clock running since the call).</summary>
    private static async Task<IWorkOrderGrain> OnTheWayAsync(WorkflowSilo silo)
    {
        await RegisterCrew(silo, "c1");
        var order = silo.Grain<IWorkOrderGrain>("o-1");
        await order.Create(Fault());
        await order.Apply(ByCrew(WorkOrderAction.Accept, "c1"));
        await order.Apply(ByCrew(WorkOrderAction.StartTravel, "c1"));
        return order;
    }
}
