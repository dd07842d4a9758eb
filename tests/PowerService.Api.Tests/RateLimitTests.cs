using System.Net;
using System.Net.Http.Json;
using PowerService.Api.Tests.Support;

namespace PowerService.Api.Tests;

/// <summary>The customer-facing endpoints are limited per customer, and per address without a token; crews per crew, over
/// HTTP and on the crew hub; dispatchers are not.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new ApiFactory().With("Api:CustomerRateLimit", "3").With("Api:CustomerRateWindow", "00:01:00")
        .With("Api:CrewRateLimit", "4").With("Api:CrewRateWindow", "00:01:00");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_customer_over_the_limit_gets_429_with_retry_after_while_a_dispatcher_goes_on()
    {
        var customer = await _api.ClientForAsync("customer-wang");
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await customer.GetAsync("/api/work-orders")).StatusCode);
        }

        var refused = await customer.GetAsync("/api/work-orders");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Too many requests", (await ApiScenario.JsonAsync(refused)).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.TooManyRequests, (await customer.PostAsync("/api/bookings/C-1~1/confirm", null)).StatusCode);
        // The outage and planned-work lists a customer's tracker reads count against the same allowance.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await customer.GetAsync("/api/outages")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await customer.GetAsync("/api/planned-outages")).StatusCode);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await dispatcher.GetAsync("/api/work-orders?region=R1")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await dispatcher.GetAsync("/api/planned-outages")).StatusCode);
        }
    }

    [Fact]
    public async Task Calls_without_a_token_are_counted_per_address_and_cut_off_before_their_401()
    {
        var anonymous = _api.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/work-orders/WO-1")).StatusCode);
        }

        var refused = await anonymous.GetAsync("/api/work-orders/WO-1");

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
    }

    [Fact]
    public async Task A_crew_posting_its_position_in_a_loop_gets_429_over_HTTP_and_on_its_hub_while_dispatchers_go_on()
    {
        var server = _api.StartKestrel();
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.RegisterCrewAsync(dispatcher, "C-12");
        var crew = await _api.ClientForAsync("crew-c12");
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await crew.PostAsJsonAsync("/api/crews/C-12/location", new { latitude = 20.0 + (i / 1000.0), longitude = 110.3 })).StatusCode);
        }
        await using var pda = await SignalRConnection.ConnectAsync(new Uri(server, "/hubs/crew"), await _api.TokenForAsync("crew-c12"));
        for (var i = 0; i < 4; i++)
        {
            await pda.InvokeAsync("ReportLocation", new { latitude = 20.01, longitude = 110.3 + (i / 1000.0) });
        }

        var refused = await crew.PostAsJsonAsync("/api/crews/C-12/location", new { latitude = 20.1, longitude = 110.3 });
        var refusedOnHub = await Assert.ThrowsAsync<InvalidOperationException>(() => pda.InvokeAsync("ReportLocation", new { latitude = 20.1, longitude = 110.3 }));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Contains("HubException: 429 Too many updates from this crew: retry in", refusedOnHub.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await dispatcher.PostAsJsonAsync("/api/crews/C-12/status", new { status = "Available" })).StatusCode);
        var history = await ApiScenario.JsonAsync(await dispatcher.GetAsync("/api/crews/C-12"));
        var last = history.GetProperty("location");
        Assert.Equal((20.01, 110.303), (Math.Round(last.GetProperty("latitude").GetDouble(), 3), Math.Round(last.GetProperty("longitude").GetDouble(), 3))); // nothing refused was applied
    }
}
