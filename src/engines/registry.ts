/**
 * Engines are loaded lazily by name, so a driver that is not needed is never imported.
 * A new engine is one new folder plus one line here.
 */
import type {ConnectionOptions, Engine} from './engine.js'

export async function createEngine(options: ConnectionOptions): Promise<Engine> {
  switch (options.engine) {
    case 'mysql': {
      const {MysqlEngine} = await import('./mysql/mysql-engine.js')
      return new MysqlEngine(options)
    }
    case 'sqlserver': {
      const {SqlServerEngine} = await import('./sqlserver/sqlserver-engine.js')
      return new SqlServerEngine(options)
    }
  }
}
