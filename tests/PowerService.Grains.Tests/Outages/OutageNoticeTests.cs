using PowerService.Grains.Ami;
using PowerService.Grains.Outages;
using PowerService.Grains.WorkOrders;
using PowerService.Grains.Tests.Notices;
using PowerService.Grains.Tests.Support;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.Outages.OutageScenario;

namespace PowerService.Grains.Tests.Outages;

/// <summary>What the customers of an outage hear, through the file channel the local silo delivers to: detected when
/// confirmed, each ETR change, restored — each customer each notice exactly once, across a silo restart.</summary>
public sealed class OutageNoticeTests : IAsyncLifetime
{
    private const string Outage = "OUT-TA-000001-1";
    private WorkflowSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = await WorkflowSilo.StartAsync();
        await ImportTopologyAsync(_silo);
    }

    public async Task DisposeAsync() => await _silo.DisposeAsync();

    [Fact]
    public async Task Each_customer_of_the_area_hears_detected_the_new_ETR_and_restored_once_each_across_a_restart()
    {
        await SendAsync(_silo, Events(_silo, 1, 20, MeterEventType.LastGasp));
        _silo.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(OutageState.Suspected, (await _silo.Grain<IOutageGrain>(Outage).Get())!.State);

        await SendAsync(_silo, Events(_silo, 21, 50, MeterEventType.LastGasp));
        await DeliveredAsync("OutageDetected", 50);
        await _silo.Grain<IOutageGrain>(Outage).SetEstimatedRestoration(_silo.Clock.GetUtcNow() + TimeSpan.FromHours(2), "dispatcher:li", "tree on the line");
        _silo.Advance(TimeSpan.FromMinutes(15)); // told with the detection: the new estimate follows after the notice interval
        await DeliveredAsync("RestorationEstimateChanged", 50);

        await _silo.RestartAsync(TimeSpan.FromSeconds(5));
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));
        await DeliveredAsync("PowerRestored", 50);

        var all = Notices();
        Assert.Equal(150, all.Count);
        Assert.Equal(150, all.Select(n => n.DeduplicationKey).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, 50).Select(Customer), all.Where(n => n.Kind == "OutageDetected").Select(n => n.CustomerId).Order());
        Assert.Contains("tree on the line", all.First(n => n.Kind == "RestorationEstimateChanged").Text);
    }

    /// <summary>A recloser trips and closes: the area's meters go dark and come back a minute later in separate batches.
    /// The outage is on record (and on the map while it lasts), but its customers are told nothing: they got "outage"
    /// and "restored" within a minute for an interruption the indicators do not count.</summary>
    [Fact]
    public async Task A_blink_is_not_told_to_its_customers()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        var outage = _silo.Grain<IOutageGrain>(Outage);
        Assert.Equal(OutageState.Confirmed, (await outage.Get())!.State);
        await AdvanceAsync(TimeSpan.FromSeconds(70));
        Assert.Empty(Notices());

        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));
        Assert.Equal(OutageState.Restored, (await outage.Get())!.State);
        await AdvanceAsync(TimeSpan.FromMinutes(6)); // past the hold, the nested-outage check and the flushes
        Assert.Empty(Notices());
        Assert.Null((await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId);
    }

    /// <summary>An outage that outlasts a blink is told when it has lasted three minutes, with the estimate and cause set
    /// meanwhile (the notice held since the start carried the default), and its end is told as always.</summary>
    [Fact]
    public async Task An_outage_is_told_once_it_has_outlasted_a_blink_with_the_estimate_set_meanwhile()
    {
        var start = _silo.Clock.GetUtcNow();
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        var outage = _silo.Grain<IOutageGrain>(Outage);
        await AdvanceAsync(TimeSpan.FromSeconds(60));
        var estimate = start + TimeSpan.FromHours(5);
        await outage.SetEstimatedRestoration(estimate, "dispatcher:li", "tree on the line");
        await AdvanceAsync(TimeSpan.FromSeconds(100));
        Assert.Empty(Notices()); // 2 min 40 s in

        await DeliveredAsync("OutageDetected", 50);
        Assert.True(_silo.Clock.GetUtcNow() >= start + TimeSpan.FromMinutes(3));
        Assert.All(Notices(), n => Assert.Contains("tree on the line", n.Text, StringComparison.Ordinal));
        // The estimate it carried is not told again as a change.
        _silo.Advance(TimeSpan.FromMinutes(16));
        await AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(Notices(), n => n.Kind == "RestorationEstimateChanged");

        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));
        await DeliveredAsync("PowerRestored", 50);
        Assert.Equal(100, Notices().Count);
    }

    /// <summary>Restored by a dispatcher four minutes in, the clock jumping there at once, so the restoration may come
    /// before the hold's reminder: its customers are told both, the outage before its end, never "restored" of an
    /// outage they never heard of.</summary>
    [Fact]
    public async Task An_outage_restored_right_after_the_hold_is_told_before_its_end()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        var outage = _silo.Grain<IOutageGrain>(Outage);
        _silo.Advance(TimeSpan.FromMinutes(4));
        await outage.Restore("dispatcher:li");
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));

        await DeliveredAsync("PowerRestored", 50);
        var all = Notices();
        Assert.Equal(100, all.Count);
        foreach (var customer in all.GroupBy(n => n.CustomerId))
        {
            Assert.Equal(["OutageDetected", "PowerRestored"], customer.Select(n => n.Kind));
        }
    }

    /// <summary>A dispatcher edits the estimate three times within minutes: each customer gets one message, with the last
    /// estimate and cause, once 15 minutes have passed since they were told of the outage; a change after that waits
    /// for the next interval; and an estimate still held when power comes back is never sent.</summary>
    [Fact]
    public async Task Estimate_changes_reach_each_customer_at_most_once_per_interval_with_the_latest_estimate()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await DeliveredAsync("OutageDetected", 50);
        var detectedAt = _silo.Clock.GetUtcNow();
        var outage = _silo.Grain<IOutageGrain>(Outage);
        var start = _silo.Clock.GetUtcNow();

        foreach (var (minutes, etrHours, cause) in new[] { (1, 2, "tree on the line"), (2, 3, "tree on the line"), (4, 5, "pole down: crane needed") })
        {
            _silo.Advance(start + TimeSpan.FromMinutes(minutes) - _silo.Clock.GetUtcNow());
            var view = await outage.SetEstimatedRestoration(start + TimeSpan.FromHours(etrHours), "dispatcher:li", cause);
            Assert.Equal(start + TimeSpan.FromHours(etrHours), view.EstimatedRestorationAt); // the views have it at once
        }
        await AdvanceAsync(TimeSpan.FromSeconds(20));
        Assert.DoesNotContain(Notices(), n => n.Kind == "RestorationEstimateChanged");

        _silo.Advance(detectedAt + TimeSpan.FromMinutes(15) - _silo.Clock.GetUtcNow());
        await DeliveredAsync("RestorationEstimateChanged", 50);
        await AdvanceAsync(TimeSpan.FromSeconds(5));
        var told = Notices().Where(n => n.Kind == "RestorationEstimateChanged").ToList();
        Assert.Equal(50, told.Count);
        Assert.All(told, n => Assert.Contains("pole down: crane needed", n.Text, StringComparison.Ordinal));

        // Changed again two minutes later, then power back before the interval passed: "restored" says it all.
        _silo.Advance(TimeSpan.FromMinutes(2));
        await outage.SetEstimatedRestoration(start + TimeSpan.FromHours(6), "dispatcher:li");
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.PowerRestored));
        await DeliveredAsync("PowerRestored", 50);
        _silo.Advance(TimeSpan.FromMinutes(15));
        await AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(50, Notices().Count(n => n.Kind == "RestorationEstimateChanged"));
    }

    [Theory]
    [InlineData("Claim compensation at http://evil.example/1")]
    [InlineData("see WWW.evil.example")]
    [InlineData("退费请登录 evil.cn/pay 办理")]
    [InlineData("hxxp\uFF1A//evil.cn/pay")] // a full-width colon
    [InlineData("\uFF57\uFF57\uFF57\uFF0Eevil\uFF0Ecn")] // full-width letters and dot
    [InlineData("www\u3002evil\u3002cn")] // ideographic full stops
    [InlineData("w\u200Bww.evil.cn")] // a zero-width space inside
    [InlineData("详情见 pay-back.top")]
    public async Task A_cause_with_a_web_address_is_refused_because_customers_are_told_it_word_for_word(string cause)
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await DeliveredAsync("OutageDetected", 50);
        var outage = _silo.Grain<IOutageGrain>(Outage);

        var onEstimate = await Assert.ThrowsAsync<InvalidFieldException>(() =>
            outage.SetEstimatedRestoration(_silo.Clock.GetUtcNow() + TimeSpan.FromHours(2), "crew:c1", cause));
        var onConfirm = await Assert.ThrowsAsync<InvalidFieldException>(() => outage.Confirm("crew:c1", cause));

        Assert.Equal(("cause", "cause"), (onEstimate.Field, onConfirm.Field));
        Assert.Null((await outage.Get())!.Cause);
        // What failed, said plainly, goes through: abbreviations and numbers with dots are not addresses.
        foreach (var plain in new[] { "10 kV 线路故障：台风刮断导线", "Pole No.12 down, Binhai Rd.", "typhoon: tree on the line (3.5 km of line)" })
        {
            Assert.Equal(plain, (await outage.SetEstimatedRestoration(_silo.Clock.GetUtcNow() + TimeSpan.FromHours(3), "crew:c1", plain)).Cause);
        }
    }

    /// <summary>The area's meters end its outage while five still report no power: those five customers are not told
    /// "power restored" with the others (they were, and three minutes later told of a new outage). Two come back within
    /// the grace period and are told then; the three still dark hear of the nested outage instead.</summary>
    [Fact]
    public async Task Customers_whose_meters_are_still_dark_are_not_told_power_is_back_until_it_is()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await DeliveredAsync("OutageDetected", 50);
        var estimate = _silo.Clock.GetUtcNow() + TimeSpan.FromHours(7); // the dispatcher's, later than the 3 h 45 min default
        await _silo.Grain<IOutageGrain>(Outage).SetEstimatedRestoration(estimate, "dispatcher:li", "tree on the line");

        await SendAsync(_silo, Events(_silo, 1, 45, MeterEventType.PowerRestored));
        await DeliveredAsync("PowerRestored", 45);
        _silo.Advance(TimeSpan.FromSeconds(30));
        await SendAsync(_silo, Events(_silo, 46, 47, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromMinutes(3)); // the nested-outage check

        await DeliveredAsync("PowerRestored", 47);
        var restored = Notices().Where(n => n.Kind == "PowerRestored").Select(n => n.CustomerId).Order().ToList();
        Assert.Equal(Enumerable.Range(1, 47).Select(Customer), restored);
        var nested = (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId!;
        var nestedView = (await _silo.Grain<IOutageGrain>(nested).Get())!;
        Assert.Equal([Meter(48), Meter(49), Meter(50)], nestedView.MeterIds);
        // Still dark, they keep the estimate they were told, not a default counted from when their meters went dark.
        Assert.Equal(estimate, nestedView.EstimatedRestorationAt);
        await Eventually.True(() =>
        {
            _silo.Advance(TimeSpan.FromSeconds(1));
            return NoticeFiles.Read(_silo.NoticeFolder).Count(n => n.OutageId == nested && n.Kind == "OutageDetected") == 3;
        }, "the three still dark are told of the nested outage");
        // Told that their outage goes on, with the cause they were told (it read as a new outage, its cause dropped).
        var told = NoticeFiles.Read(_silo.NoticeFolder).First(n => n.OutageId == nested && n.Kind == "OutageDetected").Text;
        Assert.Contains("您所在区域已恢复供电，但您的供电尚未恢复", told, StringComparison.Ordinal);
        Assert.Contains("Power is back in your area but not yet at your address", told, StringComparison.Ordinal);
        Assert.Contains("tree on the line", told, StringComparison.Ordinal);
        Assert.Equal("tree on the line", nestedView.Cause);
    }

    /// <summary>A dispatcher (or the crew's repair) restores the outage while most meters still report no power: only
    /// the customers whose meters are back are told "power restored" then (every customer was, the dark ones too, and
    /// three minutes later told of a nested outage). Those back within the grace period are told at its check; the ones
    /// still dark hear of the nested outage instead.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Restored_by_a_dispatcher_or_the_repair_only_customers_whose_meters_are_back_are_told_so(bool byRepair)
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await DeliveredAsync("OutageDetected", 50);
        await SendAsync(_silo, Events(_silo, 1, 5, MeterEventType.PowerRestored)); // five back, the area still out
        var outage = _silo.Grain<IOutageGrain>(Outage);
        Assert.NotEqual(OutageState.Restored, (await outage.Get())!.State);

        if (byRepair)
        {
            await outage.RepairChanged((await outage.Get())!.RepairOrderId!, WorkOrderState.Resolved, "C-7");
        }
        else
        {
            await outage.Restore("dispatcher:li");
        }
        await DeliveredAsync("PowerRestored", 5);
        await AdvanceAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Enumerable.Range(1, 5).Select(Customer), Notices().Where(n => n.Kind == "PowerRestored").Select(n => n.CustomerId).Order());

        await SendAsync(_silo, Events(_silo, 6, 47, MeterEventType.PowerRestored));
        _silo.Advance(TimeSpan.FromMinutes(3)); // the nested-outage check
        await DeliveredAsync("PowerRestored", 47);
        await AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(Enumerable.Range(1, 47).Select(Customer), Notices().Where(n => n.Kind == "PowerRestored").Select(n => n.CustomerId).Order());
        var nested = (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId!;
        Assert.Equal([Meter(48), Meter(49), Meter(50)], (await _silo.Grain<IOutageGrain>(nested).Get())!.MeterIds);
        await Eventually.True(() =>
        {
            _silo.Advance(TimeSpan.FromSeconds(1));
            return NoticeFiles.Read(_silo.NoticeFolder).Count(n => n.OutageId == nested && n.Kind == "OutageDetected") == 3;
        }, "the three still dark are told of the nested outage");
    }

    /// <summary>A dispatcher ends the outage while every meter of the area still reports no power: the nested outage that
    /// follows covers the whole area, and its customers are told of an outage, not that "power is back in your area".</summary>
    [Fact]
    public async Task Customers_of_an_area_still_wholly_dark_after_its_outage_was_ended_are_not_told_their_area_is_back()
    {
        await SendAsync(_silo, Events(_silo, 1, 50, MeterEventType.LastGasp));
        await DeliveredAsync("OutageDetected", 50);
        await _silo.Grain<IOutageGrain>(Outage).Restore("dispatcher:li");
        await AdvanceAsync(TimeSpan.FromSeconds(10)); // the area answers which of its meters are still dark: all
        _silo.Advance(TimeSpan.FromMinutes(3)); // the nested-outage check

        string? nested = null;
        await Eventually.True(async () =>
        {
            _silo.Advance(TimeSpan.FromSeconds(1));
            nested ??= (await _silo.Grain<IAreaPowerGrain>(Area(1)).Get()).NestedOutageId;
            return nested is not null && NoticeFiles.Read(_silo.NoticeFolder).Count(n => n.OutageId == nested && n.Kind == "OutageDetected") == 50;
        }, "the 50 still dark are told of the nested outage");
        var told = NoticeFiles.Read(_silo.NoticeFolder).First(n => n.OutageId == nested && n.Kind == "OutageDetected").Text;
        Assert.StartsWith("【供电服务】您所在区域停电", told, StringComparison.Ordinal);
        Assert.DoesNotContain("Power is back in your area", told, StringComparison.Ordinal);
        Assert.Equal(0, Notices().Count(n => n.Kind == "PowerRestored"));
    }

    /// <summary>Moves the clock so the outage's flush and the delivery poll run, until the notices of that kind are
    /// written; delivery is oldest first, so everything owed before them was handed over by then.</summary>
    private async Task DeliveredAsync(string kind, int count)
    {
        await Eventually.True(() =>
        {
            _silo.Advance(TimeSpan.FromSeconds(1));
            return Notices().Count(n => n.Kind == kind) >= count;
        }, $"{count} {kind} notices delivered");
    }

    /// <summary>Moves the clock a second at a time for <paramref name="span"/>, giving flushes and delivery their turns.</summary>
    private async Task AdvanceAsync(TimeSpan span)
    {
        for (var passed = TimeSpan.Zero; passed < span; passed += TimeSpan.FromSeconds(1))
        {
            _silo.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }
    }

    private List<DeliveredNotice> Notices() => [.. NoticeFiles.Read(_silo.NoticeFolder).Where(n => n.OutageId == Outage)];
}
