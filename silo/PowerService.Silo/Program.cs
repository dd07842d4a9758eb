using PowerService.Api;
using PowerService.Api.Security;
using PowerService.Grains;
using PowerService.Grains.Hosting;
using PowerService.Runtime;
using PowerService.Silo;

// The silo host: the grain runtime with its store, the grains and the API, configured from appsettings.json beside
// the program, environment variables (Storage__Provider=postgresql) and the command line (--Storage:Provider=postgresql).
if (args is ["hash-password", var password])
{
    // Makes the PasswordHash value of a user in the Auth:Users configuration section.
    Console.WriteLine(PasswordHash.Create(password));
    return 0;
}

try
{
    var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    // A start that fails is said in one line below (the host's own log of it repeated it with a stack trace).
    builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
    builder.Logging.AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss.fff ";
    });
    SettingsCheck.Check(builder.Configuration);
    builder.Services.AddConfiguredStorage(builder.Configuration.GetSection("Storage"));
    builder.Services.AddWorkflow(builder.Configuration.GetSection("Workflow"));
    builder.Services.AddPowerServiceApi(builder.Configuration);
    builder.Services.AddSilo(options =>
    {
        builder.Configuration.GetSection("Silo").Bind(options);
        options.AddGrainsFrom(GrainsAssembly.Value);
    });
    // The host's stop gives every service its ShutdownTimeout in total (30 s), the silo's own included: a service ahead
    // of it that was slow to stop left the silo a cancelled token, and it deactivated nothing (write-behind state
    // unflushed, "1544 activations deactivated (1544 left)"). The host waits for the silo's own timeout, and more.
    builder.Services.Configure<HostOptions>(host =>
    {
        var silo = new SiloOptions();
        builder.Configuration.GetSection("Silo").Bind(silo);
        host.ShutdownTimeout = silo.ShutdownTimeout + TimeSpan.FromSeconds(30);
    });

    var app = builder.Build();
    app.UsePowerServiceApi();
    await app.RunAsync();
    return 0;
}
catch (Exception error) when (error is InvalidOperationException or ArgumentException or StorageUnavailableException or IOException)
{
    // A configuration or store problem, or a port another process holds (IOException from Kestrel's bind): one clear
    // line for the operator instead of a stack trace.
    await Console.Error.WriteLineAsync($"PowerService silo could not start: {error.Message}");
    return 1;
}
