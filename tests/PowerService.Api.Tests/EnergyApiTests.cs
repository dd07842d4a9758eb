using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Api.Tests.Support;
using PowerService.Grains.Ami;
using PowerService.Grains.Energy;
using PowerService.Runtime;

namespace PowerService.Api.Tests;

/// <summary>A transformer area's energy as the command center reads it.</summary>
public sealed class EnergyApiTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new();
    private HttpClient _dispatcher = null!;

    public async Task InitializeAsync() => _dispatcher = await _api.ClientForAsync("dispatcher-li");

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task The_energy_of_an_area_shows_the_day_being_summed_and_the_meters_out_of_the_voltage_band()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        await ApiScenario.ImportAsync(_dispatcher, "meters", "meter_id,area_id,latitude,longitude,role\nS-1,TA-1,20.0,110.3,supply\n");
        // Readings come from the AMI head-end, not over this API: recorded the way the ingestion does.
        var now = DateTimeOffset.UtcNow;
        await _api.Services.GetRequiredService<IGrainFactory>().GetGrain<IAreaEnergyGrain>("TA-1").RecordReadings(
            [new MeterEvent("S-1", "e1", MeterEventType.Reading, now, 12.5, 226), new MeterEvent("M-1", "e2", MeterEventType.Reading, now, 11, 196)]);
        var operatorClient = await _api.ClientForAsync("operator-zhao");

        var energy = await ApiScenario.JsonAsync(await operatorClient.GetAsync("/api/transformer-areas/TA-1/energy"));

        Assert.Equal(("S-1", 1), (energy.GetProperty("supplyMeterId").GetString(), energy.GetProperty("customerMeters").GetInt32()));
        var open = energy.GetProperty("openPeriods")[0];
        Assert.Equal((12.5, 11.0, 1), (open.GetProperty("supplyKwh").GetDouble(), open.GetProperty("deliveredKwh").GetDouble(), open.GetProperty("reportingMeters").GetInt32()));
        var excursion = energy.GetProperty("voltageOutOfRange")[0];
        Assert.Equal(("M-1", "Low"), (excursion.GetProperty("meterId").GetString(), excursion.GetProperty("deviation").GetString()));
    }

    [Fact]
    public async Task An_unknown_area_is_a_404_and_a_crew_or_customer_may_not_read_energy()
    {
        var crew = await _api.ClientForAsync("crew-c12");
        var customer = await _api.ClientForAsync("customer-wang");

        var unknown = await _dispatcher.GetAsync("/api/transformer-areas/TA-404/energy");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await crew.GetAsync("/api/transformer-areas/TA-404/energy")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync("/api/transformer-areas/TA-404/energy")).StatusCode);
    }
}
