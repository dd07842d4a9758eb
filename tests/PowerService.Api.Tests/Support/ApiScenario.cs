using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PowerService.Api.Tests.Support;

/// <summary>Set-up steps a dispatcher performs over HTTP, shared by the API and browser tests.</summary>
internal static class ApiScenario
{
    private static readonly string[] LowVoltage = ["LowVoltageRepair"];

    /// <summary>Imports one feeder, grid, transformer area, meter and customer <c>CU-0001</c> in region R1; returns
    /// the result of the customers file.</summary>
    public static async Task<JsonElement> ImportCustomerAsync(HttpClient dispatcher)
    {
        await ImportAsync(dispatcher, "feeders", "feeder_id,name,substation_id,substation_name,region\nF-1,Binhai 1,S-1,Binhai,R1\n");
        await ImportAsync(dispatcher, "grids", "grid_id,name,region,manager_name,manager_phone\nG-1,Binhai grid,R1,Chen Jie,13800000001\n");
        await ImportAsync(dispatcher, "transformer-areas", "area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva\nTA-1,Binhai 1-1,F-1,G-1,R1,urban,20.0,110.3,400\n");
        await ImportAsync(dispatcher, "meters", "meter_id,area_id,latitude,longitude\nM-1,TA-1,20.0,110.3\n");
        return await ImportAsync(dispatcher, "customers", "customer_id,name,phone,meter_id,importance,area_class,latitude,longitude\nCU-0001,Wang Fang,13900000001,M-1,ordinary,urban,20.0,110.3\n");
    }

    /// <summary>Imports a feeder in each of <paramref name="regions"/> and nothing else, so that orders may be placed there
    /// (an order is refused in a region nobody serves) while no crew works there.</summary>
    public static Task<JsonElement> ServeRegionsAsync(HttpClient dispatcher, params string[] regions) =>
        ImportAsync(dispatcher, "feeders", "feeder_id,name,substation_id,substation_name,region\n"
            + string.Concat(regions.Select(region => $"F-{IdOf(region)},{region} feeder,S-{IdOf(region)},{region} substation,{region}\n")));

    // Ids are letters and digits: a region's name (海口龙华) is not one.
    private static string IdOf(string region) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(region)))[..12];

    /// <summary>Imports two transformer areas of region R1: TA-1 with meters M-1..M-10 (customer <c>CU-0001</c>, user
    /// customer-wang, on M-1) and TA-2 with the one meter M-11 (customer <c>CU-0002</c>, user customer-li).</summary>
    public static async Task ImportTwoAreasAsync(HttpClient dispatcher)
    {
        await ImportAsync(dispatcher, "feeders", "feeder_id,name,substation_id,substation_name,region\nF-1,Binhai 1,S-1,Binhai,R1\nF-2,Binhai 2,S-1,Binhai,R1\n");
        await ImportAsync(dispatcher, "grids", "grid_id,name,region,manager_name,manager_phone\nG-1,Binhai grid,R1,Chen Jie,13800000001\n");
        await ImportAsync(dispatcher, "transformer-areas",
            "area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva\nTA-1,Binhai 1-1,F-1,G-1,R1,urban,20.0,110.3,400\nTA-2,Binhai 2-1,F-2,G-1,R1,urban,20.1,110.35,400\n");
        var meters = new System.Text.StringBuilder("meter_id,area_id,latitude,longitude\n");
        for (var m = 1; m <= 11; m++)
        {
            meters.Append(System.Globalization.CultureInfo.InvariantCulture, $"M-{m},TA-{(m <= 10 ? 1 : 2)},20.0,110.3\n");
        }
        await ImportAsync(dispatcher, "meters", meters.ToString());
        await ImportAsync(dispatcher, "customers",
            "customer_id,name,phone,meter_id,importance,area_class,latitude,longitude\nCU-0001,Wang Fang,13900000001,M-1,ordinary,urban,20.0,110.3\nCU-0002,Li Lei,13900000002,M-11,important,urban,20.1,110.35\n");
    }

    /// <summary>A four-hour planned outage of feeder F-1 (the one <see cref="ImportCustomerAsync"/> imports).</summary>
    public static object PlannedOutage(string id, DateTimeOffset start, bool dryRun = false) => new
    {
        id,
        kind = "Planned",
        feederId = "F-1",
        plannedStart = start,
        plannedEnd = start.AddHours(4),
        reason = "Replace the 10 kV switch",
        dryRun,
    };

    /// <summary>The head-end's batch of last gasps from meters M-<paramref name="first"/>..M-<paramref name="last"/>.</summary>
    public static object LastGasps(int first, int last) => new
    {
        events = Enumerable.Range(first, last - first + 1)
            .Select(m => new { meterId = $"M-{m}", eventId = $"gasp-{m}", type = "LastGasp", at = DateTimeOffset.UtcNow }).ToArray(),
    };

    public static async Task<JsonElement> ImportAsync(HttpClient dispatcher, string kind, string csv)
    {
        var response = await dispatcher.PostAsync($"/api/import/{kind}", new StringContent(csv, System.Text.Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await JsonAsync(response);
    }

    /// <summary>Registers a low-voltage repair crew (or one with <paramref name="skills"/>) in region R1, on shift from an
    /// hour ago for eight hours (or, with <paramref name="offShiftUntilTomorrow"/>, from tomorrow for four days: dispatch
    /// does not take the orders it could work, so they wait for a booked visit).</summary>
    public static async Task RegisterCrewAsync(HttpClient dispatcher, string id, double latitude = 20.01, string[]? skills = null, bool offShiftUntilTomorrow = false, string? name = null, string region = "R1")
    {
        var now = DateTimeOffset.UtcNow;
        var shift = offShiftUntilTomorrow ? new { start = now.AddDays(1), end = now.AddDays(5) } : new { start = now.AddHours(-1), end = now.AddHours(8) };
        var response = await dispatcher.PostAsJsonAsync("/api/crews", new
        {
            id,
            name = name ?? $"Crew {id}",
            region,
            skills = skills ?? LowVoltage,
            capacity = 3,
            home = new { latitude, longitude = 110.33 },
            shifts = new[] { shift },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }
}
