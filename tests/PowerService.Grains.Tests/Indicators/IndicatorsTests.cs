using System.Text;
using PowerService.Grains.Ami;
using PowerService.Grains.Energy;
using PowerService.Grains.Indicators;
using PowerService.Grains.Outages;
using PowerService.Grains.PlannedOutages;
using PowerService.Grains.Tests.PlannedOutages;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.Topology.Import;
using PowerService.Grains.WorkOrders;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.WorkOrders.Scenario;

namespace PowerService.Grains.Tests.Indicators;

/// <summary>A region's indicators follow its outages, orders and callbacks as they happen. The grid is
/// <see cref="PlannedGrid"/>: region R1 serves six customers, TA-1 three of them.</summary>
public sealed class IndicatorsTests
{
    private const string Region = "R1";

    [Fact]
    public async Task An_outage_of_three_of_six_customers_restored_after_90_minutes_gives_SAIFI_half_and_SAIDI_45_minutes()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        var outage = silo.Grain<IOutageGrain>("OUT-1");
        await outage.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.TransformerArea, Dispatcher, silo.Clock.GetUtcNow(), ["TA-1"], Confirmed: true));
        silo.Advance(TimeSpan.FromMinutes(90));
        await outage.Restore(Dispatcher);

        var indicators = await Reported(silo, Region, i => i.Reliability.Outages == 1);
        var system = await Reported(silo, IndicatorScopes.System, i => i.Reliability.Outages == 1);

        Assert.Equal(("2026-11", "2026-11", 6L), (indicators.From, indicators.To, indicators.CustomersServed));
        var reliability = indicators.Reliability;
        Assert.Equal((3L, 270.0), (reliability.CustomerInterruptions, reliability.CustomerInterruptionMinutes));
        Assert.Equal((0.5, 45.0, 90.0), (reliability.Saifi, reliability.SaidiMinutes, reliability.CaidiMinutes));
        Assert.Equal((45.0, 0.0), (reliability.UnplannedSaidiMinutes, reliability.PlannedSaidiMinutes));
        // November so far (local time): 22 days and 10.5 hours.
        var periodMinutes = (22 * 24 * 60) + 630;
        Assert.Equal(Math.Round(1 - (270.0 / (6 * periodMinutes)), 6), reliability.Asai);
        Assert.Equal(reliability, system.Reliability);
    }

    /// <summary>An outage counts in the month it ended with all its minutes; one that began a week before the month was
    /// measured against the month's hours only, and availability went below zero (-0.05 for a 7-day outage ended on
    /// the 7th). It is measured from the interruption's start.</summary>
    [Fact]
    public async Task Availability_of_a_month_whose_outage_began_the_month_before_stays_between_zero_and_one()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        var outage = silo.Grain<IOutageGrain>("OUT-1");
        var began = silo.Clock.GetUtcNow(); // 23 November 10:30 (+08:00)
        await outage.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.TransformerArea, Dispatcher, began, ["TA-1"], Confirmed: true));
        silo.Advance(new DateTimeOffset(2026, 12, 1, 0, 30, 0, TimeSpan.FromHours(8)) - began);
        await outage.Restore(Dispatcher);

        var december = await Reported(silo, Region, i => i.Reliability.Outages == 1);

        Assert.Equal(("2026-12", 3L), (december.From, december.Reliability.CustomerInterruptions));
        // Three of six customers out for the whole time measured.
        Assert.Equal(0.5, december.Reliability.Asai);
    }

    [Fact]
    public async Task Restoring_an_outage_again_or_reporting_it_twice_counts_it_once()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        var outage = silo.Grain<IOutageGrain>("OUT-1");
        await outage.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.TransformerArea, Dispatcher, silo.Clock.GetUtcNow(), ["TA-2"], Confirmed: true));
        silo.Advance(TimeSpan.FromMinutes(60));
        var restored = await outage.Restore(Dispatcher);
        await outage.Restore(Dispatcher);
        await silo.Grain<IRegionIndicatorsGrain>(Region).OutageRestored(
            new OutageFact("OUT-1", OutageKind.Unplanned, ["TA-2"], 2, restored.StartedAt, restored.RestoredAt!.Value, NewInterruption: true));

        var indicators = await Reported(silo, Region, i => i.Reliability.Outages > 0);

        Assert.Equal((1, 2L, 120.0), (indicators.Reliability.Outages, indicators.Reliability.CustomerInterruptions, indicators.Reliability.CustomerInterruptionMinutes));
    }

    [Fact]
    public async Task Clocks_met_and_breached_give_the_on_time_rate_and_callbacks_the_satisfaction()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        await RegisterCrew(silo, "c1", region: Region);
        var prompt = silo.Grain<IWorkOrderGrain>("o-1");
        var late = silo.Grain<IWorkOrderGrain>("o-2");
        await prompt.Create(Fault(region: Region));
        await late.Create(Fault(region: Region));
        await Complete(prompt, "c1");
        await late.Apply(ByCrew(WorkOrderAction.Accept, "c1"));
        silo.Advance(TimeSpan.FromMinutes(46));
        await Eventually.True(async () => (await late.Get())!.SlaClocks.Any(c => c.Name == "Arrival" && c.State == SlaClockState.Breached), "the arrival clock breaches");
        await late.Apply(ByCrew(WorkOrderAction.StartTravel, "c1"));
        await late.Apply(ByCrew(WorkOrderAction.Arrive, "c1"));
        await late.Apply(ByCrew(WorkOrderAction.Resolve, "c1"));
        await prompt.RecordCallback(new CallbackAttempt(CallbackOutcome.Satisfied, Agent));
        await late.RecordCallback(new CallbackAttempt(CallbackOutcome.Dissatisfied, Agent, "came too late"));

        var indicators = await Reported(silo, Region, i => i.Callbacks.Dissatisfied == 1);

        // Met: both restorations, both callbacks, the prompt arrival; breached: the late arrival (counted once, though it
        // was stopped afterwards). The reopened order's new arrival clock is still running.
        Assert.Equal(new OnTimeIndicators(5, 1, Math.Round(5 / 6.0, 4)), indicators.OnTime);
        Assert.Equal(new CallbackIndicators(1, 1, 0, 0.5), indicators.Callbacks);
    }

    [Fact]
    public async Task Complaints_per_million_and_new_connection_duration_in_working_days()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        await RegisterCrew(silo, "c1", region: Region);
        await silo.Grain<IWorkOrderGrain>("o-1").Create(OfKind(WorkOrderKind.Complaint, region: Region));
        var connection = silo.Grain<IWorkOrderGrain>("o-2");
        await connection.Create(OfKind(WorkOrderKind.NewConnection, region: Region, category: ConnectionCategory.Residential));
        await connection.Apply(ByCrew(WorkOrderAction.Accept, "c1"));
        // Monday 09:00 to Thursday 21:00, of which the customer held the order a whole day (Tuesday 09:00 to Wednesday
        // 09:00): two and a half working days of the utility's.
        silo.Advance(TimeSpan.FromHours(24));
        await connection.Apply(new WorkOrderCommand(WorkOrderAction.Suspend, "customer:CU", Note: "not at home"));
        silo.Advance(TimeSpan.FromHours(24));
        await connection.Apply(new WorkOrderCommand(WorkOrderAction.Resume, "customer:CU"));
        silo.Advance(TimeSpan.FromHours(36));
        await connection.Apply(ByCrew(WorkOrderAction.StartTravel, "c1"));
        await connection.Apply(ByCrew(WorkOrderAction.Arrive, "c1"));
        await connection.Apply(ByCrew(WorkOrderAction.Resolve, "c1"));

        var indicators = await Reported(silo, Region, i => i.NewConnections.Completed == 1);

        Assert.Equal(new ComplaintIndicators(1, Math.Round(1_000_000 / 6.0, 2)), indicators.Complaints);
        Assert.Equal(new NewConnectionIndicators(1, 2.5), indicators.NewConnections);
    }

    [Fact]
    public async Task Customers_cut_three_times_count_as_repeated_outages()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        for (var i = 1; i <= 3; i++)
        {
            var outage = silo.Grain<IOutageGrain>($"OUT-{i}");
            await outage.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.TransformerArea, Dispatcher, silo.Clock.GetUtcNow(), ["TA-2"], Confirmed: true));
            silo.Advance(TimeSpan.FromMinutes(30));
            await outage.Restore(Dispatcher);
        }
        var once = silo.Grain<IOutageGrain>("OUT-4");
        await once.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.TransformerArea, Dispatcher, silo.Clock.GetUtcNow(), ["TA-1"], Confirmed: true));
        silo.Advance(TimeSpan.FromMinutes(30));
        await once.Restore(Dispatcher);

        var indicators = await Reported(silo, Region, i => i.Reliability.Outages == 4);

        Assert.Equal(new RepeatedOutageIndicators(3, 2), indicators.RepeatedOutages);
    }

    /// <summary>A blink — last gasps, then the restores seconds later in another batch — opened an outage and counted
    /// as an interruption of every customer of the area in SAIFI, at zero minutes, and as a cut towards "repeated
    /// outages". An unplanned outage restored within three minutes is momentary: counted apart, not in the reliability
    /// indices nor the repeated cuts; one that lasts longer counts as before.</summary>
    [Fact]
    public async Task An_outage_restored_within_three_minutes_is_a_momentary_interruption_outside_SAIFI_and_the_repeated_cuts()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        for (var i = 1; i <= 3; i++)
        {
            var blink = silo.Grain<IOutageGrain>($"OUT-B{i}");
            await blink.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.TransformerArea, Dispatcher, silo.Clock.GetUtcNow(), ["TA-1"], Confirmed: true));
            silo.Advance(TimeSpan.FromSeconds(40 * i));
            await blink.Restore(Dispatcher);
        }
        var sustained = silo.Grain<IOutageGrain>("OUT-S1");
        await sustained.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.TransformerArea, Dispatcher, silo.Clock.GetUtcNow(), ["TA-1"], Confirmed: true));
        silo.Advance(TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(1));
        await sustained.Restore(Dispatcher);

        var reliability = (await Reported(silo, Region, i => i.Reliability.Outages == 1 && i.Reliability.MomentaryInterruptions == 9)).Reliability;

        Assert.Equal((1, 3L, 9L), (reliability.Outages, reliability.CustomerInterruptions, reliability.MomentaryInterruptions));
        Assert.Equal(Math.Round(3 * (3 + (1 / 60.0)), 2), reliability.CustomerInterruptionMinutes);
        Assert.Equal(0.5, reliability.Saifi);
        Assert.Equal(0, (await Reported(silo, Region, _ => true)).RepeatedOutages.Customers); // one cut, three blinks
    }

    /// <summary>The area's outage was a blink (restored within a minute), but one customer's meter stayed dark for half
    /// an hour after it (a nested outage): that customer was interrupted, from the area's start, and SAIFI counted no
    /// one (the blink is momentary, and a nested outage only adds minutes to its area's interruption).</summary>
    [Fact]
    public async Task Meters_still_dark_after_a_blink_of_their_area_are_an_interruption_from_the_area_s_start()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        var start = silo.Clock.GetUtcNow();
        var area = silo.Grain<IOutageGrain>("OUT-A");
        await area.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.TransformerArea, Dispatcher, start, ["TA-1"], Confirmed: true));
        silo.Advance(TimeSpan.FromMinutes(1));
        await area.Restore(Dispatcher);
        var nested = silo.Grain<IOutageGrain>("OUT-A-1");
        await nested.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.Meters, "meters", silo.Clock.GetUtcNow(), ["TA-1"], MeterIds: ["M-11"], Confirmed: true, ParentOutageId: "OUT-A"));
        silo.Advance(TimeSpan.FromMinutes(30));
        await nested.Restore(Dispatcher);

        var reliability = (await Reported(silo, Region, i => i.Reliability.CustomerInterruptions == 1)).Reliability;

        Assert.Equal((1, 1L, 3L), (reliability.Outages, reliability.CustomerInterruptions, reliability.MomentaryInterruptions));
        Assert.Equal(31, reliability.CustomerInterruptionMinutes);
    }

    /// <summary>An outage counts in the month it ended, the repeated-outage figure too: a third cut running from the
    /// night of 30 November into 1 December made November's customers "cut three times" while November's own
    /// figures counted two outages.</summary>
    [Fact]
    public async Task An_outage_across_the_month_end_is_a_repeated_cut_of_the_month_it_ended_in_only()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        for (var i = 1; i <= 3; i++)
        {
            if (i == 3)
            {
                // The clock stands at 23 November 10:30 (+08:00) plus an hour: on to 30 November 23:00.
                silo.Advance(new DateTimeOffset(2026, 11, 30, 23, 0, 0, TimeSpan.FromHours(8)) - silo.Clock.GetUtcNow());
            }
            var outage = silo.Grain<IOutageGrain>($"OUT-{i}");
            await outage.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.TransformerArea, Dispatcher, silo.Clock.GetUtcNow(), ["TA-2"], Confirmed: true));
            silo.Advance(TimeSpan.FromMinutes(i == 3 ? 120 : 30));
            await outage.Restore(Dispatcher);
        }
        await Reported(silo, Region, i => i.Reliability.Outages == 1); // December's

        var november = await silo.Grain<IRegionIndicatorsGrain>(Region).Get("2026-11", "2026-11");
        var both = await silo.Grain<IRegionIndicatorsGrain>(Region).Get("2026-11", "2026-12");

        Assert.Equal((2, 0), (november.Reliability.Outages, november.RepeatedOutages.Customers));
        Assert.Equal((3, 2), (both.Reliability.Outages, both.RepeatedOutages.Customers));
    }

    [Fact]
    public async Task Figures_survive_a_restart_and_months_outside_the_range_are_not_counted()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        var outage = silo.Grain<IOutageGrain>("OUT-1");
        await outage.Open(new OutageOpening(OutageKind.Planned, OutageScope.TransformerArea, Dispatcher, silo.Clock.GetUtcNow(), ["TA-3"], Confirmed: true));
        silo.Advance(TimeSpan.FromHours(2));
        await outage.Restore(PlannedOutageGrain.CloseOutActor("PO-1")); // a planned outage counts at its close-out
        await Reported(silo, Region, i => i.Reliability.Outages == 1);

        await silo.RestartAsync(TimeSpan.FromDays(10));
        var november = await silo.Grain<IRegionIndicatorsGrain>(Region).Get("2026-11", "2026-11");
        var sinceOctober = await silo.Grain<IRegionIndicatorsGrain>(Region).Get("2026-10");
        var december = await silo.Grain<IRegionIndicatorsGrain>(Region).Get();

        Assert.Equal((1, 120.0, 20.0), (november.Reliability.Outages, november.Reliability.CustomerInterruptionMinutes, november.Reliability.PlannedSaidiMinutes));
        Assert.Equal(("2026-10", "2026-12", 1), (sinceOctober.From, sinceOctober.To, sinceOctober.Reliability.Outages));
        Assert.Equal(("2026-12", 0, (double?)0), (december.From, december.Reliability.Outages, december.Reliability.Saifi));
    }

    [Fact]
    public async Task A_measured_day_of_an_area_gives_the_region_its_line_loss_once()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);
        var meters = await new TopologyImport(silo.Silo).ImportAsync(
            ImportKind.Meters, new MemoryStream(Encoding.UTF8.GetBytes("meter_id,area_id,latitude,longitude,role\nS-3,TA-3,20.0,110.3,supply\n")), "dispatcher-7");
        Assert.True(meters.Succeeded);
        var now = silo.Clock.GetUtcNow();
        await silo.Grain<IAreaEnergyGrain>("TA-3").RecordReadings(
            [new MeterEvent("S-3", "s", MeterEventType.Reading, now, 10), new MeterEvent("M-31", "m", MeterEventType.Reading, now, 9.5)]);
        silo.Advance(TimeSpan.FromDays(1));

        var indicators = await Reported(silo, Region, i => i.LineLoss.MeasuredPeriods > 0);
        await silo.RestartAsync();
        var afterRestart = await silo.Grain<IRegionIndicatorsGrain>(Region).Get();

        Assert.Equal(new LineLossIndicators(1, 0, 0, 10, 9.5, 0.05), indicators.LineLoss);
        Assert.Equal(indicators.LineLoss, afterRestart.LineLoss);
    }

    [Theory]
    [InlineData("2026-13", null, "from")]
    [InlineData("2026-1", null, "from")]
    [InlineData(null, "November", "to")]
    [InlineData("2026-11", "2026-10", "from")]
    public async Task A_bad_month_or_range_names_the_field(string? from, string? to, string field)
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);

        var error = await Assert.ThrowsAsync<InvalidFieldException>(() => silo.Grain<IRegionIndicatorsGrain>(Region).Get(from, to));

        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task A_region_no_feeder_names_is_not_found()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await PlannedGrid.ImportAsync(silo);

        var error = await Assert.ThrowsAsync<EntityNotFoundException>(() => silo.Grain<IRegionIndicatorsGrain>("R9").Get());

        Assert.Equal(("Region", "R9"), (error.Entity, error.Id));
    }

    private static async Task<ServiceIndicators> Reported(WorkflowSilo silo, string scope, Func<ServiceIndicators, bool> condition)
    {
        ServiceIndicators? seen = null;
        await Eventually.True(async () => condition(seen = await silo.Grain<IRegionIndicatorsGrain>(scope).Get()), $"the indicators of {scope} are reported");
        return seen!;
    }
}
