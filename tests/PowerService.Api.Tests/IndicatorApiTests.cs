using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Api.Tests.Support;
using PowerService.Grains.Outages;
using PowerService.Runtime;
using PowerService.TestSupport;

namespace PowerService.Api.Tests;

/// <summary>Service-quality indicators as the command center and operations staff read them.</summary>
public sealed class IndicatorApiTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new();
    private HttpClient _dispatcher = null!;

    public async Task InitializeAsync() => _dispatcher = await _api.ClientForAsync("dispatcher-li");

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_region_and_the_whole_system_show_the_interruption_of_one_of_their_two_customers()
    {
        await ApiScenario.ImportTwoAreasAsync(_dispatcher);
        // Outages come from meters or the outage endpoints; this one is opened 90 minutes back, as the meters would date it.
        var outage = _api.Services.GetRequiredService<IGrainFactory>().GetGrain<IOutageGrain>("OUT-1");
        await outage.Open(new OutageOpening(OutageKind.Unplanned, OutageScope.TransformerArea, "dispatcher:li", DateTimeOffset.UtcNow.AddMinutes(-90), ["TA-2"], Confirmed: true));
        await outage.Restore("dispatcher:li");
        var operatorClient = await _api.ClientForAsync("operator-zhao");

        var region = await ReportedAsync(operatorClient, "/api/indicators?region=R1");
        var system = await ReportedAsync(_dispatcher, "/api/indicators");

        Assert.Equal(("R1", 2), (region.GetProperty("region").GetString(), region.GetProperty("customersServed").GetInt32()));
        Assert.Equal(region.GetProperty("from").GetString(), region.GetProperty("to").GetString());
        var reliability = region.GetProperty("reliability");
        Assert.Equal((1, 1, 0.5), (reliability.GetProperty("outages").GetInt32(), reliability.GetProperty("customerInterruptions").GetInt32(), reliability.GetProperty("saifi").GetDouble()));
        Assert.InRange(reliability.GetProperty("saidiMinutes").GetDouble(), 45, 46);
        Assert.Equal(("*", 2), (system.GetProperty("region").GetString(), system.GetProperty("customersServed").GetInt32()));
    }

    [Theory]
    [InlineData("/api/indicators?region=R1&from=2026-13", "from")]
    [InlineData("/api/indicators?region=R1&to=26-11", "to")]
    [InlineData("/api/indicators?region=R1&from=2026-11&to=2026-10", "from")]
    [InlineData("/api/indicators?region=R1&from=0001-01&to=2026-10", "from")]
    [InlineData("/api/indicators?from=2026-01&to=9999-12", "to")]
    // A misspelt or repeated parameter answered with the whole system's figures, or the region "R1,R2".
    [InlineData("/api/indicators?regoin=R1", "regoin")]
    [InlineData("/api/indicators?region=R1&region=R2", "region")]
    public async Task A_bad_month_or_range_is_a_400_naming_the_field(string url, string field)
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);

        var response = await _dispatcher.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await ApiScenario.JsonAsync(response)).GetProperty("field").GetString());
    }

    /// <summary>Only from given, past the current month: the 400 said "from (2099-01) is after to (2026-12)" to a user who
    /// had sent no to.</summary>
    [Fact]
    public async Task A_from_after_the_current_month_without_a_to_says_to_is_the_current_month()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);

        var response = await _dispatcher.GetAsync("/api/indicators?region=R1&from=2099-01");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("which is the current month", (await ApiScenario.JsonAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_region_too_long_is_a_400_an_unknown_one_a_404_and_only_dispatchers_and_operators_may_read()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        var crew = await _api.ClientForAsync("crew-c12");
        var customer = await _api.ClientForAsync("customer-wang");
        using var anonymous = _api.CreateClient();

        var tooLong = await _dispatcher.GetAsync($"/api/indicators?region={new string('R', 65)}");

        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal("region", (await ApiScenario.JsonAsync(tooLong)).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync("/api/indicators?region=R9")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await crew.GetAsync("/api/indicators?region=R1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await customer.GetAsync("/api/indicators?region=R1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/indicators?region=R1")).StatusCode);
    }

    [Fact]
    public async Task The_OpenAPI_document_lists_the_indicators_with_their_query()
    {
        using var body = JsonDocument.Parse(await _api.CreateClient().GetStringAsync("/openapi/v1.json"));

        var parameters = body.RootElement.GetProperty("paths").GetProperty("/api/indicators").GetProperty("get").GetProperty("parameters");
        Assert.Equal(["region", "from", "to"], parameters.EnumerateArray().Select(p => p.GetProperty("name").GetString()));
    }

    private static async Task<JsonElement> ReportedAsync(HttpClient client, string url)
    {
        JsonElement body = default;
        await Eventually.True(async () =>
        {
            var response = await client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            body = await ApiScenario.JsonAsync(response);
            return body.GetProperty("reliability").GetProperty("outages").GetInt32() == 1;
        }, $"{url} shows the outage");
        return body;
    }
}
