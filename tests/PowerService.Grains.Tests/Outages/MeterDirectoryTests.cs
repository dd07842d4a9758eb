using Microsoft.Extensions.DependencyInjection;
using PowerService.Grains.Ami;
using PowerService.Grains.Outages;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.Topology.Import;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.Outages.OutageScenario;

namespace PowerService.Grains.Tests.Outages;

/// <summary>Events are routed from the in-memory meter directory, and an import that moves a meter to another
/// transformer area is obeyed at once: the very next event of that meter reaches its new area.</summary>
public sealed class MeterDirectoryTests
{
    [Fact]
    public async Task The_directory_learns_the_imported_meters_and_a_meter_moved_by_an_import_reports_to_its_new_area()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        await ImportTopologyAsync(silo);
        var directory = silo.Silo.Services.GetRequiredService<MeterDirectory>();
        var meters = SampleFile(ImportKind.Meters).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length - 1;
        await Eventually.True(() => Task.FromResult(directory.Count == meters), "the directory holds every imported meter");
        Assert.True(directory.TryGetArea(Meter(1), out var before));
        Assert.Equal(Area(1), before);

        var moved = await ImportAsync(silo, ImportKind.Meters, SampleFile(ImportKind.Meters).Replace($"{Meter(1)},{Area(1)},", $"{Meter(1)},{Area(2)},", StringComparison.Ordinal));
        var receipt = await SendAsync(silo, Events(silo, 1, 1, MeterEventType.LastGasp));

        Assert.Equal(1, moved.Updated);
        Assert.Equal(1, receipt.Accepted);
        Assert.Equal(0, (await silo.Grain<IAreaPowerGrain>(Area(1)).Get()).DarkMeters);
        Assert.Equal(1, (await silo.Grain<IAreaPowerGrain>(Area(2)).Get()).DarkMeters);
        await Eventually.True(() => Task.FromResult(directory.TryGetArea(Meter(1), out var area) && area == Area(2)), "the reloaded directory has the meter's new area");
        Assert.Equal(meters, directory.Count);
        Assert.False(directory.TryGetArea("MT-UNKNOWN", out _));
    }
}
