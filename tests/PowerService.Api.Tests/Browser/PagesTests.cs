using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;
using PowerService.Api.Tests.Support;

namespace PowerService.Api.Tests.Browser;

/// <summary>The four pages in a real headless Chromium (Debian's <c>chromium</c>, installed by <c>.ci/run</c>) against
/// the real silo over Kestrel: a dispatcher, a crew, a customer and an operator each in their own browser context.
/// Screenshots of every page land in <c>screenshots/</c> beside the test assembly.</summary>
public sealed class PagesTests : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly string Screenshots = Path.Combine(AppContext.BaseDirectory, "screenshots");
    private readonly ApiFactory _api = new();
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private Uri _server = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: install Debian's chromium package (apt-get install -y chromium); .ci/run does.");
        }
        _server = _api.StartKestrel();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        Directory.CreateDirectory(Screenshots);
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task A_dispatcher_assigns_a_new_order_live_the_crew_works_it_on_the_PDA_and_the_customer_follows_every_step()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.ImportCustomerAsync(dispatcherApi);
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-77", latitude: 20.001); // nearest: dispatch offers it first
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-12", latitude: 20.3);

        var console = await SignInAsync("dispatch.html", "dispatcher-li");
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();
        await Assertions.Expect(console.Locator("#crews")).ToContainTextAsync("C-12");
        var customer = await SignInAsync("customer.html", "customer-wang");
        var pda = await SignInAsync("crew.html", "crew-c12");
        var monitor = await SignInAsync("monitor.html", "operator-zhao");

        // A hotline agent takes the call; the order appears on the console without a reload.
        var created = await dispatcherApi.PostAsJsonAsync("/api/work-orders", new { id = "WO-B1", kind = "FaultRepair", description = "Lights out on Binhai Road", customerId = "CU-0001" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var row = console.Locator("tr[data-order='WO-B1']");
        await Assertions.Expect(row).ToContainTextAsync("C-77");

        // The dispatcher overrides: C-12 gets it, and its PDA shows it at once.
        await row.Locator("select").SelectOptionAsync("C-12");
        await row.Locator("button[data-assign]").ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("C-12");
        await console.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "dispatch.png"), FullPage = true });

        await customer.Locator("input[name=orderId]").FillAsync("WO-B1");
        await customer.Locator("#find button").ClickAsync();
        await Assertions.Expect(customer.Locator(".steps span.now")).ToHaveTextAsync("Crew assigned");

        var card = pda.Locator(".card[data-card='WO-B1']");
        await Assertions.Expect(card).ToContainTextAsync("Lights out on Binhai Road");
        string[][] steps = [["Accept", "Crew accepted"], ["En route", "On the way"], ["Arrived", "Crew on site"], ["Resolved", "Repaired"]];
        foreach (var (button, customerSees) in steps.Select(s => (s[0], s[1])))
        {
            if (button == "Resolved")
            {
                await card.Locator("textarea").FillAsync("Replaced the blown fuse");
                await pda.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "crew.png"), FullPage = true });
            }
            await card.GetByRole(AriaRole.Button, new() { Name = button, Exact = true }).ClickAsync();
            await Assertions.Expect(customer.Locator(".steps span.now")).ToHaveTextAsync(customerSees);
        }
        await Assertions.Expect(pda.Locator("#orders")).ToContainTextAsync("No orders.");
        await Assertions.Expect(console.Locator("tr[data-order='WO-B1']")).ToContainTextAsync("CallbackPending"); // waits for the callback
        await customer.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "customer.png"), FullPage = true });

        // The operator's monitor saw the silo at work.
        await Assertions.Expect(monitor.Locator("#methods")).ToContainTextAsync("WorkOrderGrain");
        await monitor.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "monitor.png"), FullPage = true });
        var history = await dispatcherApi.GetFromJsonAsync<List<HistoryEntry>>("/api/work-orders/WO-B1/history");
        Assert.Contains(history!, e => e.Type == "Resolved" && e.Actor == "crew:crew-c12");
    }

    [Fact]
    public async Task A_wrong_password_is_shown_on_the_page()
    {
        var page = await _browser.NewPageAsync(new() { BaseURL = _server.ToString() });
        await page.GotoAsync("dispatch.html");
        await page.Locator("input[name=username]").FillAsync("dispatcher-li");
        await page.Locator("input[name=password]").FillAsync("not the password");
        await page.Locator("#login button").ClickAsync();

        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("user name or password is wrong");
        await Assertions.Expect(page.Locator("#app")).ToBeHiddenAsync();
    }

    private async Task<IPage> SignInAsync(string path, string user)
    {
        var context = await _browser.NewContextAsync(new() { BaseURL = _server.ToString(), ViewportSize = new() { Width = 1280, Height = 900 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(path);
        await page.Locator("input[name=username]").FillAsync(user);
        await page.Locator("input[name=password]").FillAsync(ApiFactory.Password);
        await page.Locator("#login button").ClickAsync();
        await Assertions.Expect(page.Locator("#app")).ToBeVisibleAsync();
        return page;
    }

    private sealed record HistoryEntry(string Type, string? Actor);
}
