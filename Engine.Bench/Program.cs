Console.Error.WriteLine("usage: dotnet run -c Release --project Engine.Bench -- <workload>");
return 2;
