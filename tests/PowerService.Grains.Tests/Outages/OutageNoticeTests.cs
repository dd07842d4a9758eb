using PowerService.Grains.Ami;
using PowerService.Grains.Outages;
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

    private List<DeliveredNotice> Notices() => [.. NoticeFiles.Read(_silo.NoticeFolder).Where(n => n.OutageId == Outage)];
}
